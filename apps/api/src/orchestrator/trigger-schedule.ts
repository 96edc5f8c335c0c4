import type { StreamGap } from '@ddnn/contracts';

/**
 * How late a trigger may fire and still be made up by the next ones (they fire at once until the schedule is
 * met). A trigger is late when the event loop or the machine held the process: GC, a big page of the log, a
 * database backend and the device thread taking both cores. Dropping anything later than 25 ms lost a tenth to
 * a half of the triggers at 300-630 samples/s once the machine was busy (event-loop delay p50 7-40 ms, p99
 * 150-250 ms under load 9), and the stream then fell below its rate with CPU to spare. A quarter second is half
 * the window of samples in flight (STREAM_IN_FLIGHT_SECONDS), so a catch-up never fills the window by itself,
 * and well within the capture tolerance. Longer stalls, and samples holding the whole window, restart the
 * schedule from now: those triggers are dropped (counted, and logged once a minute), never burst.
 */
export const MAX_CATCH_UP_MS = 250;
/** How often a stream that dropped triggers says how many, in its log (StreamGap) and the server's. */
export const DROPPED_REPORT_MS = 60_000;

/** A gap as the schedule reports it; the stream adds its id. */
export type TriggerGap = Omit<StreamGap, 'sessionId'>;

/**
 * The triggers an outage never fired: those due strictly between the last sample's trigger (`from`) and the first
 * one after it (`to`), at `period` ms. `from` may come from another node's clock: a skewed one never makes the
 * outage negative (it is clamped to `to`).
 */
export function outageGap(from: number, to: number, period: number): Pick<TriggerGap, 'from' | 'to' | 'missedTriggers'> {
  const since = Math.min(from, to);
  return { from: since, to, missedTriggers: Math.max(0, Math.ceil((to - since) / period) - 1) };
}

export interface TriggerScheduleDeps {
  rate: number;
  /** Samples the stream keeps in flight at most (said in its drop report). */
  window: number;
  /** The monotonic clock triggers are due on (performance.now). */
  clock(): number;
  /** Wall clock (epoch ms): gaps are dated on it. */
  wall(): number;
  /** Appends a gap to the stream's log; never rejects: the stream handles a refusal or a failure itself. */
  appendGap(gap: TriggerGap): Promise<void>;
  /**
   * Whether gaps are no longer logged: a node that lost the stream writes nothing more (the one running it logs its
   * own gaps), and a stream failing (its log unreachable) would only wait out the outage again for each.
   */
  silenced(): boolean;
  /** The stream's name in the server's log (`stream <id>`). */
  name: string;
  log?(message: string): void;
}

/**
 * A stream's trigger schedule: when the next trigger is due, which triggers it gives up (a full window of samples in
 * flight: `backlog`; a stall past MAX_CATCH_UP_MS: `stall`), and their StreamGap events, reported a minute after the
 * first drop at most and at the end, beside the samples (a gap never holds a trigger up).
 */
export class TriggerSchedule {
  private readonly period: number;
  private due: number;
  /**
   * Schedule time given up, in periods, not yet counted as whole triggers: a wait is mostly shorter than a period,
   * and counting each one's whole periods only lost the rest every time (a slow device at 20/s: 273 reported of
   * ~484 never fired).
   */
  private readonly owed = { backlog: 0, stall: 0 };
  /**
   * Triggers dropped since the first drop not reported yet (`since`, null: none), and the wall-clock span of the
   * moments they were due, per cause: a report says when they were dropped, not since when nothing was said.
   */
  private readonly dropped = { since: null as number | null, backlog: { n: 0, from: 0, to: 0 }, stall: { n: 0, from: 0, to: 0 } };
  private readonly appends = new Set<Promise<void>>();

  constructor(private readonly deps: TriggerScheduleDeps) {
    this.period = 1000 / deps.rate;
    this.due = deps.clock();
  }

  /** How long until the next trigger is due (<= 0: now; a late one fires at once, made up). */
  untilDue(): number {
    return this.due - this.deps.clock();
  }

  /** A slot freed in a full window: behind schedule, the schedule restarts from now, never a burst. */
  windowFreed(): void {
    const now = this.deps.clock();
    this.drop('backlog', now);
    this.due = Math.max(this.due, now);
  }

  /**
   * A trigger fires (`next`: its sample's index): what was dropped is reported once it is due, a stall past
   * MAX_CATCH_UP_MS gives up what lies beyond the catch-up, and the next trigger is due a period later.
   */
  fired(next: number): void {
    this.reportDropped(next);
    const limit = this.deps.clock() - MAX_CATCH_UP_MS;
    if (this.due < limit) {
      this.drop('stall', limit);
      this.due = limit;
    }
    this.due += this.period;
  }

  /** The first trigger after an outage (`from`: the last sample's trigger, `to`: this one's; wall clock). */
  outage(from: number, to: number, next: number): void {
    this.logGap({ cause: 'outage', ...outageGap(from, to, this.period), nextSample: next });
  }

  /** The stream's end (`next`: the index after its last sample): reports what was dropped, and waits for its gaps. */
  async end(next: number): Promise<void> {
    this.reportDropped(next, true);
    await Promise.all(this.appends);
  }

  /** The wall clock of a moment on the monotonic clock (triggers are due on the one, logged on the other). */
  private wallOf(t: number): number {
    return this.deps.wall() - (this.deps.clock() - t);
  }

  /** The schedule gives up the time between `due` and `until`: the triggers it owed there never fire. */
  private drop(cause: 'backlog' | 'stall', until: number): void {
    if (until <= this.due) return;
    this.owed[cause] += (until - this.due) / this.period;
    const n = Math.floor(this.owed[cause]);
    if (n <= 0) return;
    this.owed[cause] -= n;
    const d = this.dropped[cause];
    if (d.n === 0) d.from = this.wallOf(this.due);
    d.n += n;
    d.to = this.wallOf(until);
    this.dropped.since ??= this.deps.clock();
  }

  /** Says what was dropped, a minute after the first drop at most (and at the stream's end); `next`: the next index. */
  private reportDropped(next: number, force = false): void {
    const { since, backlog, stall } = this.dropped;
    if (since === null || (!force && this.deps.clock() - since < DROPPED_REPORT_MS)) return;
    this.deps.log?.(
      `${this.deps.name}: ${backlog.n + stall.n} triggers dropped in the last ${Math.round((this.deps.clock() - since) / 1000)} s ` +
        `(${backlog.n} while the window of ${this.deps.window} samples was full, ${stall.n} after stalls over ${MAX_CATCH_UP_MS} ms)`,
    );
    for (const cause of ['backlog', 'stall'] as const) {
      const d = this.dropped[cause];
      if (d.n > 0) this.logGap({ cause, from: Math.round(d.from), to: Math.round(d.to), missedTriggers: d.n, nextSample: next });
      Object.assign(d, { n: 0, from: 0, to: 0 });
    }
    this.dropped.since = null;
  }

  private logGap(gap: TriggerGap): void {
    if (this.deps.silenced()) return;
    const p: Promise<void> = this.deps.appendGap(gap).finally(() => this.appends.delete(p));
    this.appends.add(p);
  }
}
