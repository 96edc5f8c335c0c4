import { printableText, type SkipCause } from '@ddnn/contracts';

/**
 * The kind of a message: its text with the numbers left out. A frame's age or a sample's id changes with every
 * capture; the trouble it names does not, and is said (logged, reported) once.
 */
export function messageKind(message: string): string {
  return message.replace(/\d+/g, '#');
}

/**
 * Captures skipped in a row for the same kind of reason before the agent reports it as its problem: one stale frame
 * on a loaded machine is the next capture's to fix; a camera that stopped writing skips every one.
 */
export const SKIP_STREAK = 3;

/** The heartbeat's problem is at most this long (the server's limit is larger; the dashboard shows one line). */
const MAX_PROBLEM_CHARS = 500;

/** An infer reply as far as the problem is concerned. */
export interface ServedReply {
  ok: boolean;
  skipped?: boolean;
  cause?: SkipCause;
  error?: string;
}

/**
 * What the agent tells the server in each heartbeat as its `problem` (shown on the Devices page), from its infer
 * replies and its source's own problem: a failed request at once, captures skipped SKIP_STREAK times in a row for
 * one kind of reason, and what the source works around (frames it ignores). Each changes the problem once per
 * change of kind, not with every sample: a text naming a frame's age changed every capture, and each change is a
 * heartbeat.
 */
export class ProblemReport {
  private failure: string | null = null;
  private streak: { kind: string; count: number; since: number; first: string } | null = null;
  private sourceProblem: string | null = null;
  private text: string | null = null;

  /** `label` says where frames come from (`source folder`, `data folder X`). */
  constructor(
    private readonly label: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The problem to report, or null while the agent serves. */
  get current(): string | null {
    return this.text;
  }

  /**
   * Takes a reply and the source's problem read after it; true when the problem to report changed. A capture
   * dropped because the device is busy is it keeping up, and a view the camera never captured is no fault of it:
   * neither counts, nor breaks a streak.
   */
  observe(reply: ServedReply, sourceProblem: string | null = null): boolean {
    this.sourceProblem = sourceProblem;
    if (reply.ok) {
      this.failure = null;
      this.streak = null;
    } else if (reply.skipped) {
      if (reply.cause !== 'busy' && reply.cause !== 'absent') {
        const error = reply.error ?? 'capture skipped';
        const kind = messageKind(error);
        if (this.streak?.kind === kind) this.streak.count++;
        else this.streak = { kind, count: 1, since: this.clock(), first: error };
        this.failure = null;
      }
    } else {
      const error = reply.error ?? 'request failed';
      if (this.failure === null || messageKind(this.failure) !== messageKind(error)) this.failure = error;
      this.streak = null;
    }
    const parts: string[] = [];
    if (this.sourceProblem) parts.push(`${this.label}: ${this.sourceProblem}`);
    if (this.failure) parts.push(`cannot serve a sample (${this.label}): ${this.failure}`);
    if (this.streak && this.streak.count >= SKIP_STREAK) {
      parts.push(`cannot serve a sample (${this.label}): every capture since ${new Date(this.streak.since).toISOString()} skipped: ${this.streak.first}`);
    }
    // Control characters (from a source's own error output) would get the heartbeat refused as malformed.
    const text = parts.length ? printableText(parts.join('; ').slice(0, MAX_PROBLEM_CHARS)) : null;
    if (text === this.text) return false;
    this.text = text;
    return true;
  }
}
