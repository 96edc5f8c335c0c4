/** One sample's cloud answer: its class probabilities and its share of the batch's compute time. */
export interface CloudAnswer {
  probabilities: number[];
  /** The batch's compute time divided by its samples: what this sample cost the cloud. */
  latencyMs: number;
}

/**
 * The cloud section for every sample that reaches it in the same turn of the event loop, run as one batch.
 *
 * Samples in flight get their device features in bursts (a fleet's replies arrive in one message), and tfjs
 * spends most of a one-sample cloud pass on per-operation overhead: a batch of four costs about a quarter of
 * four single passes. Each sample's result is its own row of the batch; the sections' batched pass is
 * row-for-row bit-identical to single passes (model-catalog.spec checks it on 2- and 3-tier checkpoints), so a
 * sample's probabilities, and with them every exit decision, are what a pass of its own would give.
 */
export class CloudBatcher<I> {
  private queue: { input: I; resolve(a: CloudAnswer): void; reject(e: unknown): void }[] = [];

  constructor(
    private readonly inferBatch: (inputs: I[]) => ArrayLike<number>[],
    private readonly maxBatch = 32,
  ) {}

  infer(input: I): Promise<CloudAnswer> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ input, resolve, reject });
    });
  }

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    for (let start = 0; start < queue.length; start += this.maxBatch) {
      const batch = queue.slice(start, start + this.maxBatch);
      const t0 = performance.now();
      let rows: ArrayLike<number>[];
      try {
        rows = this.inferBatch(batch.map((q) => q.input));
      } catch (e) {
        for (const q of batch) q.reject(e);
        continue;
      }
      const latencyMs = (performance.now() - t0) / batch.length;
      batch.forEach((q, i) => q.resolve({ probabilities: Array.from(rows[i]), latencyMs }));
    }
  }
}
