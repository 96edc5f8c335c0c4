import type { NewEvent } from '@ddnn/contracts';
import { FencedAppendError } from './errors';
import type { AppendOptions, AppendRequest, AppendResult, EventStore } from './event-store';

export interface BatchingWriterOptions {
  /** Flush once this many events are waiting (default 500). */
  maxBatchEvents?: number;
  /** Flush at the latest this long after the first waiting event (default 5 ms). */
  maxDelayMs?: number;
  /**
   * Independent lanes, each with one batch in flight; a stream always maps to the same lane, so appends to one
   * stream stay in call order while different streams commit in parallel (default 4).
   */
  lanes?: number;
}

export interface BatchingWriterStats {
  batches: number;
  events: number;
  failedBatches: number;
  largestBatch: number;
  /** Appends refused by their fence: a writer that lost its stream to another (see EventStore.takeFence). */
  fencedAppends: number;
}

/** A queued append: the request itself plus its caller's callbacks (one object per append: thousands may wait). */
interface Pending extends AppendRequest {
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit for hot paths: collects appends for up to maxDelayMs or maxBatchEvents and writes each batch in
 * one statement (one transaction). A caller is resolved only after its batch committed; when the batch fails,
 * every caller in it is rejected (their event ids make a retry safe). A refused expectation or fence rejects only its
 * caller.
 */
export class BatchingWriter {
  readonly stats: BatchingWriterStats = { batches: 0, events: 0, failedBatches: 0, largestBatch: 0, fencedAppends: 0 };
  private readonly observers = new Set<(batch: { events: number; seconds: number; ok: boolean }) => void>();
  private readonly maxBatchEvents: number;
  private readonly maxDelayMs: number;
  private readonly lanes: Lane[];
  private closed = false;

  constructor(
    private readonly store: EventStore,
    options: BatchingWriterOptions = {},
  ) {
    this.maxBatchEvents = positiveInt('maxBatchEvents', options.maxBatchEvents ?? 500);
    this.maxDelayMs = nonNegative('maxDelayMs', options.maxDelayMs ?? 5);
    const lanes = positiveInt('lanes', options.lanes ?? 4);
    this.lanes = Array.from({ length: lanes }, () => new Lane(this));
  }

  /** Queues an append; resolves after the batch holding it committed. */
  append(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('BatchingWriter is closed'));
    return new Promise<AppendResult>((resolve, reject) => {
      const lane = this.lanes[laneOf(streamId, this.lanes.length)];
      lane.add({ streamId, events, expectedVersion: options.expectedVersion, fence: options.fence, resolve, reject });
    });
  }

  /** Writes everything queued now and waits for it (and for batches already in flight). */
  async flush(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.drain()));
  }

  /** Flushes, then refuses further appends. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Calls `fn` after each batch's statement with its duration (the node's append latency, for GET /metrics); returns the unsubscribe. */
  observe(fn: (batch: { events: number; seconds: number; ok: boolean }) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** @internal */
  get limits(): { maxBatchEvents: number; maxDelayMs: number } {
    return { maxBatchEvents: this.maxBatchEvents, maxDelayMs: this.maxDelayMs };
  }

  /** @internal One batch, one statement; settles every caller of the batch. */
  async write(batch: Pending[]): Promise<void> {
    const t0 = performance.now();
    try {
      const outcomes = await this.store.appendBatch(batch);
      this.report(batch, t0, true);
      // Counted: the events of the appends the batch wrote (not those it refused).
      let events = 0;
      for (let i = 0; i < batch.length; i++) {
        const o = outcomes[i];
        if (o.ok) {
          events += batch[i].events.length;
          batch[i].resolve(o.result);
        } else {
          if (o.error instanceof FencedAppendError) this.stats.fencedAppends++;
          batch[i].reject(o.error);
        }
      }
      this.stats.batches++;
      this.stats.events += events;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, events);
    } catch (e) {
      this.stats.failedBatches++;
      this.report(batch, t0, false);
      for (const p of batch) p.reject(e);
    }
  }

  private report(batch: Pending[], t0: number, ok: boolean): void {
    if (this.observers.size === 0) return;
    const seconds = (performance.now() - t0) / 1000;
    const events = batch.reduce((n, p) => n + p.events.length, 0);
    for (const fn of this.observers) {
      try {
        fn({ events, seconds, ok });
      } catch {
        // An observer (metrics) never fails an append.
      }
    }
  }
}

class Lane {
  private queue: Pending[] = [];
  private queuedEvents = 0;
  /** When the oldest waiting append arrived (performance.now()). */
  private oldestAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(private readonly writer: BatchingWriter) {}

  add(p: Pending): void {
    if (this.queue.length === 0) this.oldestAt = performance.now();
    this.queue.push(p);
    this.queuedEvents += p.events.length;
    this.schedule();
  }

  async drain(): Promise<void> {
    while (this.inFlight || this.queue.length) {
      if (!this.inFlight) this.kick();
      await this.inFlight;
    }
  }

  /**
   * A batch goes once maxBatchEvents wait or the oldest waiting append has waited maxDelayMs, one batch in flight
   * at a time. Also after a commit: sending what queued during a fast commit at once made one transaction (a
   * round trip, a WAL flush, a wake-up of each subscriber) per sample or two at a session's rates.
   */
  private schedule(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const wait = this.oldestAt + this.writer.limits.maxDelayMs - performance.now();
    if (this.queuedEvents >= this.writer.limits.maxBatchEvents || wait <= 0) this.kick();
    else if (!this.timer) this.timer = setTimeout(() => this.kick(), wait);
  }

  /** Starts a batch unless one is in flight; when it ends, the next waits its turn (schedule). */
  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.take();
    this.inFlight = this.writer.write(batch).finally(() => {
      this.inFlight = null;
      this.schedule();
    });
  }

  private take(): Pending[] {
    const max = this.writer.limits.maxBatchEvents;
    let n = 0;
    let k = 0;
    while (k < this.queue.length && (k === 0 || n + this.queue[k].events.length <= max)) {
      n += this.queue[k].events.length;
      k++;
    }
    const batch = this.queue.splice(0, k);
    this.queuedEvents -= n;
    // What stays behind (a full batch's overflow) has waited as long as the batch: it goes next, at once.
    if (this.queue.length) this.oldestAt = -Infinity;
    return batch;
  }
}

function laneOf(streamId: string, lanes: number): number {
  if (lanes === 1) return 0;
  let h = 2166136261;
  for (let i = 0; i < streamId.length; i++) h = Math.imul(h ^ streamId.charCodeAt(i), 16777619);
  return (h >>> 0) % lanes;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`BatchingWriter: ${name} must be an integer >= 1, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new Error(`BatchingWriter: ${name} must be a number >= 0, got ${v}`);
  return v;
}
