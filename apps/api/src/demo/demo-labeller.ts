import { MAX_LABELS_PER_REQUEST, type StreamLabel } from '@ddnn/contracts';
import type { SimulatedCapture } from '../simulations/simulated-device';
import { LabelsRefused } from '../streams/labels-refused';

/** What the labeller needs: the captures of its simulation, the scene's truth, and the stream labels path. */
export interface DemoLabellerPorts {
  onCapture(listener: (capture: SimulatedCapture) => void): () => void;
  truth(capturedAt: number): number;
  label(runId: string, labels: StreamLabel[]): Promise<unknown>;
  warn(message: string): void;
  now?: () => number;
}

/** Samples waiting for their label at most (a stalled labels path must not grow memory without end). */
const MAX_WAITING = 10_000;

/**
 * Labels a demo stream's samples a few seconds after they were captured, as a person (or a slower system) who
 * knows what really crossed the street would: the truth is the scene's at the sample's capture time, and the
 * labels go through the stream's labels path like anyone's.
 */
export class DemoLabeller {
  private readonly waiting = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private posting = false;
  private readonly now: () => number;

  constructor(
    private readonly runId: string,
    private readonly delayMs: number,
    private readonly ports: DemoLabellerPorts,
  ) {
    this.now = ports.now ?? Date.now;
  }

  start(everyMs = 1000): void {
    this.unsubscribe = this.ports.onCapture((c) => {
      if (c.runId !== this.runId || this.waiting.has(c.sampleIndex) || this.waiting.size >= MAX_WAITING) return;
      this.waiting.set(c.sampleIndex, c.capturedAt);
    });
    this.timer = setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /** Posts the labels that are due; a failed post is logged and its labels dropped (the demo does not insist on any). */
  async flush(): Promise<number> {
    if (this.posting) return 0;
    const dueBefore = this.now() - this.delayMs;
    const due: StreamLabel[] = [];
    for (const [sampleIndex, capturedAt] of this.waiting) {
      if (capturedAt > dueBefore) continue;
      if (due.length === MAX_LABELS_PER_REQUEST) break;
      due.push({ sampleIndex, label: this.ports.truth(capturedAt) });
      this.waiting.delete(sampleIndex);
    }
    if (due.length === 0) return 0;
    this.posting = true;
    try {
      await this.ports.label(this.runId, due);
      return due.length;
    } catch (e) {
      // A request is refused whole when one of its labels is (a sample labelled otherwise already, by an operator or
      // another labeller; one no longer in the log): the rest go again, once, so one refusal loses one label.
      if (e instanceof LabelsRefused) return await this.without(due, e);
      this.ports.warn(`demo stream ${this.runId}: posting ${due.length} labels: ${(e as Error).message}`);
      return 0;
    } finally {
      this.posting = false;
    }
  }

  private async without(due: StreamLabel[], refused: LabelsRefused): Promise<number> {
    const rest = due.filter((l) => !refused.samples.includes(l.sampleIndex));
    const dropped = due.length - rest.length;
    try {
      if (rest.length) await this.ports.label(this.runId, rest);
      this.ports.warn(`demo stream ${this.runId}: ${dropped} of ${due.length} labels refused (${refused.message}), the other ${rest.length} posted`);
      return rest.length;
    } catch (e) {
      this.ports.warn(`demo stream ${this.runId}: ${dropped} of ${due.length} labels refused (${refused.message}), and posting the other ${rest.length}: ${(e as Error).message}`);
      return 0;
    }
  }
}
