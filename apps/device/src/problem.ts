import { printableText, type SkipCause } from '@ddnn/contracts';

/**
 * The kind of a message: its text with every word holding a digit left out. A frame's age, a sample's id or a frame's
 * name (a counter, a timestamp, a uuid) changes with every capture; the trouble it names does not, and is said
 * (logged, reported) once. The whole word, not only its digits: the letters left of a name like cam-3fa9c2.png differ
 * from frame to frame.
 */
export function messageKind(message: string): string {
  return message.replace(/\S*\d\S*/g, '#');
}

/**
 * Captures in a row not served (skipped, whatever the reasons) before the agent reports it as its problem: one stale
 * frame on a loaded machine is the next capture's to fix; a camera that stopped writing skips every one.
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

/** A change of the problem to report: the new problem (null: none) and the line the agent logs about it. */
export interface ProblemChange {
  problem: string | null;
  log: string;
}

/**
 * What the agent tells the server in each heartbeat as its `problem` (shown on the Devices page), from its infer
 * replies and its source's own problem: a failed request at once, captures skipped SKIP_STREAK times in a row (for
 * any reasons: frame names that change, or reasons that alternate, must not keep it from being said; it names the
 * latest reason, and another once that one held SKIP_STREAK captures in a row), and what the
 * source works around (frames it ignores). The problem changes only when its kind (messageKind) does: its text is
 * kept while the kind is the same, since each change is a warn line and a heartbeat, and a text naming a frame's age
 * or name changed at every capture. A skipped or failed capture keeps the problem until one is served.
 */
export class ProblemReport {
  private failure: string | null = null;
  /**
   * Captures skipped since the last one served (or failed) and when the first was; the reason the problem names, and
   * the latest reason's kind with how many skips in a row gave it.
   */
  private streak: { count: number; since: number; shown: string; kind: string; run: number } | null = null;
  private text: string | null = null;
  /** The kind of the problem (of its whole text: the heartbeat's cut can fall inside a number of any length). */
  private kind: string | null = null;

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
   * Takes a reply and the source's problem read after it; the change when the problem to report changed kind, else
   * null. A capture dropped because the device is busy is it keeping up, and a view the camera never captured is no
   * fault of it: neither counts, nor breaks a streak.
   */
  observe(reply: ServedReply, sourceProblem: string | null = null): ProblemChange | null {
    if (reply.ok) {
      this.failure = null;
      this.streak = null;
    } else if (reply.skipped) {
      if (reply.cause !== 'busy' && reply.cause !== 'absent') {
        const reason = reply.error ?? 'capture skipped';
        const kind = messageKind(reason);
        const s = this.streak ?? { count: 0, since: this.clock(), shown: reason, kind, run: 0 };
        s.count++;
        s.run = s.kind === kind ? s.run + 1 : 1;
        s.kind = kind;
        // Named when the run is reported (the latest reason), and again only once another reason held SKIP_STREAK
        // captures in a row: reasons that alternate would otherwise change the problem at every capture.
        if (s.count <= SKIP_STREAK || s.run >= SKIP_STREAK) s.shown = reason;
        this.streak = s;
      }
    } else {
      // A failure is said at once; the skips before it are no longer "every capture since".
      this.failure = reply.error ?? 'request failed';
      this.streak = null;
    }
    const parts: string[] = [];
    if (sourceProblem) parts.push(`${this.label}: ${sourceProblem}`);
    if (this.failure) parts.push(`cannot serve a sample (${this.label}): ${this.failure}`);
    if (this.streak && this.streak.count >= SKIP_STREAK) {
      parts.push(`cannot serve a sample (${this.label}): every capture since ${new Date(this.streak.since).toISOString()} skipped: ${this.streak.shown}`);
    }
    const full = parts.length ? parts.join('; ') : null;
    const kind = full === null ? null : messageKind(full);
    if (kind === this.kind) return null;
    this.kind = kind;
    // Control characters (from a source's own error output) would get the heartbeat refused as malformed.
    const text = full === null ? null : printableText(full.slice(0, MAX_PROBLEM_CHARS));
    this.text = text;
    if (text !== null) return { problem: text, log: `reporting a problem: ${text}` };
    // Cleared without a capture served (the source's own problem went away while captures still skip, fewer than
    // SKIP_STREAK so far): not "serving again".
    return { problem: null, log: reply.ok ? 'problem cleared: serving again' : 'problem cleared (no capture served yet)' };
  }
}
