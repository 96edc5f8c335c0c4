import type { StoredEvent } from '@ddnn/contracts';
import { compareCheckpoints } from './checkpoint';

/**
 * Events kept at most; past it the older half goes (a reader that far behind reads the database). Subscribers that
 * batch at an interval (the metrics rollup, the Prometheus totals) trail the head by up to a second of the log, and
 * must stay inside the half kept.
 */
const MAX_EVENTS = 20_000;
/** Staged events kept at most (a process that writes faster than its readers read gives up on the oldest). */
const MAX_STAGED = 5_000;

/**
 * The newest stretch of the log that this process has read, parsed once and shared by every reader of the
 * process: the projections, the metrics rollup, the Prometheus totals, the live feed and the summary folds each
 * read every event, and parsing each row four or five times was a large part of the API's CPU per sample.
 *
 * Why a cached page is the same as a fresh read: readAll returns, after a checkpoint, only events of
 * transactions older than every running one (the xid8 rule), so no event committed later can ever sort before
 * an event already returned. The window is therefore a contiguous run of the log in readAll order: a reader
 * whose checkpoint is in it gets exactly the events a query would give, possibly fewer (a prefix), never others.
 * Events are shared objects: readers must not mutate them.
 */
export class LogTail {
  /** Checkpoint the window starts after (null: empty window). */
  private start: string | null = null;
  private events: StoredEvent[] = [];
  /** Index in `events` of the event after each checkpoint in the window (start included). */
  private readonly next = new Map<string, number>();
  /** The last extension reached the head of the log (as readAll could see it then). */
  private reachedHead = false;
  private extending: { run: Promise<void>; began: number } | null = null;
  /** Orders arrivals and reads (extend). */
  private clock = 0;
  /**
   * Events this process committed that the window has not reached yet, by global position, as a read would give
   * them (stage): a read that extends the window asks the database only where each row is (see knownPositions).
   */
  private readonly staged = new Map<string, StoredEvent>();

  /** The checkpoint the window ends at (its last event's, or its start when empty). */
  get end(): string | null {
    return this.events.length ? this.events[this.events.length - 1].checkpoint : this.start;
  }

  /** Up to `limit` events after `after` when `after` is in the window, else null. */
  slice(after: string, limit: number): StoredEvent[] | null {
    const i = this.next.get(after);
    return i === undefined ? null : this.events.slice(i, i + limit);
  }

  /** Whether `after` is in the window and the window ends at the head the last extension saw. */
  covers(after: string): boolean {
    return this.reachedHead && this.next.has(after);
  }

  /** Up to `limit` events of one stream after `after` (in the window: check `covers` first). */
  streamAfter(after: string, streamId: string, limit: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    const i0 = this.next.get(after);
    if (i0 === undefined) return out;
    for (let i = i0; i < this.events.length && out.length < limit; i++) if (this.events[i].streamId === streamId) out.push(this.events[i]);
    return out;
  }

  /**
   * Reads on from the window's end with `read`, one read at a time. A caller arriving while a read runs waits
   * for it; unless `fresh`, any read counts, else only one that began after the caller arrived (so that it
   * sees everything committed before the call, as its own query would).
   */
  async extend(read: (after: string) => Promise<{ events: StoredEvent[]; head: boolean }>, fresh = false): Promise<void> {
    const arrived = ++this.clock;
    while (this.extending) {
      const { run, began } = this.extending;
      if (!fresh || began > arrived) return run;
      await run.catch(() => undefined);
    }
    const from = this.end;
    if (from === null) return;
    const run = (async () => {
      const page = await read(from);
      // The window may have been cleared meanwhile (the log was emptied): append only where the read began.
      if (this.end === from) this.append(page.events, page.head);
    })();
    const current = { run, began: ++this.clock };
    this.extending = current;
    try {
      await run;
    } finally {
      if (this.extending === current) this.extending = null;
    }
  }

  /** Whether anyone reads the log through the window (else staging is pointless). */
  get live(): boolean {
    return this.start !== null;
  }

  /**
   * Keeps events this process just committed (built from what it sent, equal to what a read returns) until the
   * window reaches them. Staging says nothing about order: a read still finds out where in the log each one is.
   */
  stage(events: readonly StoredEvent[]): void {
    if (this.start === null) return;
    for (const e of events) this.staged.set(e.globalPosition, e);
    if (this.staged.size > MAX_STAGED) {
      // The oldest first (insertion order): events the readers passed by reading around the window.
      let drop = this.staged.size - MAX_STAGED / 2;
      for (const k of this.staged.keys()) {
        if (drop-- <= 0) break;
        this.staged.delete(k);
      }
    }
  }

  /** The staged global positions as an int8multirange literal (unsorted ranges: the server normalizes), or null. */
  knownPositions(): string | null {
    if (this.staged.size === 0) return null;
    const ranges: string[] = [];
    let lo = -1;
    let hi = -1;
    for (const k of this.staged.keys()) {
      const p = Number(k);
      if (p === hi) {
        hi++;
        continue;
      }
      if (lo >= 0) ranges.push(`[${lo},${hi})`);
      lo = p;
      hi = p + 1;
    }
    ranges.push(`[${lo},${hi})`);
    return `{${ranges.join(',')}}`;
  }

  /** The staged event at a global position (undefined: dropped since). */
  stagedAt(globalPosition: string): StoredEvent | undefined {
    return this.staged.get(globalPosition);
  }

  /**
   * Takes in a page read from the database after `after`: appended when it continues the window, the new
   * window when it ends later than the window (a reader ahead of it), else ignored.
   */
  offer(after: string, events: StoredEvent[], head: boolean): void {
    if (after === this.end) return this.append(events, head);
    const last = events.length ? events[events.length - 1].checkpoint : after;
    const end = this.end;
    if (end !== null && compareCheckpoints(last, end) <= 0) return;
    this.clear();
    this.start = after;
    this.next.set(after, 0);
    this.append(events, head);
  }

  /** Forgets everything (the log was emptied). */
  clear(): void {
    this.start = null;
    this.events = [];
    this.next.clear();
    this.reachedHead = false;
    this.staged.clear();
  }

  private append(events: StoredEvent[], head: boolean): void {
    const staged = this.staged.size > 0;
    for (const e of events) {
      this.events.push(e);
      this.next.set(e.checkpoint, this.events.length);
      if (staged) this.staged.delete(e.globalPosition);
    }
    this.reachedHead = head;
    if (this.events.length > MAX_EVENTS) this.trim();
  }

  private trim(): void {
    const drop = this.events.length - MAX_EVENTS / 2;
    this.next.delete(this.start as string);
    for (let i = 0; i < drop - 1; i++) this.next.delete(this.events[i].checkpoint);
    this.start = this.events[drop - 1].checkpoint;
    this.events = this.events.slice(drop);
    for (const [cp, i] of this.next) this.next.set(cp, i - drop);
  }
}
