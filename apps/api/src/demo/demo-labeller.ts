import { HttpException } from '@nestjs/common';
import { MAX_LABELS_PER_REQUEST, type StreamLabel } from '@ddnn/contracts';
import type { SimulatedCapture } from '../simulations/simulated-device';

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
      // another labeller; one no longer in the log): the others go one at a time, so one refusal loses one label.
      if (due.length > 1 && refusesLabels(e)) return await this.oneByOne(due);
      this.ports.warn(`demo stream ${this.runId}: posting ${due.length} labels: ${(e as Error).message}`);
      return 0;
    } finally {
      this.posting = false;
    }
  }

  private async oneByOne(due: StreamLabel[]): Promise<number> {
    let posted = 0;
    const refused: string[] = [];
    for (const label of due) {
      try {
        await this.ports.label(this.runId, [label]);
        posted++;
      } catch (e) {
        refused.push(`sample ${label.sampleIndex}: ${(e as Error).message}`);
      }
    }
    this.ports.warn(`demo stream ${this.runId}: ${refused.length} of ${due.length} labels refused (${refused.slice(0, 3).join('; ')}${refused.length > 3 ? '; …' : ''}), the other ${posted} posted`);
    return posted;
  }
}

/** A refusal of what some labels say (409: labelled otherwise; 422: not a sample of the log), not of the request. */
function refusesLabels(e: unknown): boolean {
  return e instanceof HttpException && (e.getStatus() === 409 || e.getStatus() === 422);
}
