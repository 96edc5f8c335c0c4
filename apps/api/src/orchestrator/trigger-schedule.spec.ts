import { DROPPED_REPORT_MS, MAX_CATCH_UP_MS, outageGap, TriggerSchedule, type TriggerGap } from './trigger-schedule';

/** Wall clock of the schedule's start (epoch ms). */
const WALL0 = 1_800_000_000_000;
const DAY = 86_400_000;

/** A schedule on an injected clock: the monotonic and wall clocks advance together, only when told. */
function scheduled(rate: number, over: { window?: number; silenced?: () => boolean; appendGap?: (gap: TriggerGap) => Promise<void> } = {}) {
  let t = 1000;
  const gaps: { gap: TriggerGap; at: number }[] = [];
  const logs: string[] = [];
  const schedule = new TriggerSchedule({
    rate,
    window: over.window ?? 4,
    clock: () => t,
    wall: () => WALL0 + (t - 1000),
    name: 'stream s1',
    log: (m) => logs.push(m),
    silenced: over.silenced ?? (() => false),
    appendGap:
      over.appendGap ??
      (async (gap) => {
        gaps.push({ gap, at: t });
      }),
  });
  const advance = (ms: number) => void (t += ms);
  /** Fires `n` triggers from `index` as the stream's loop does: each waits until it is due, a late one fires at once. */
  const fire = (index: number, n: number, onTime?: (late: boolean) => void): number => {
    for (let i = index; i < index + n; i++) {
      const left = schedule.untilDue();
      onTime?.(left <= 0);
      if (left > 0) advance(left);
      schedule.fired(i);
    }
    return index + n;
  };
  return { schedule, gaps, logs, advance, fire, now: () => t, wall: () => WALL0 + (t - 1000) };
}

describe('outageGap', () => {
  it('counts the triggers due strictly between the last sample and the next', () => {
    // 0.583 s at 2/s: one trigger, at +0.5 s (rounding counted one more).
    expect(outageGap(WALL0 - 583, WALL0, 500)).toEqual({ from: WALL0 - 583, to: WALL0, missedTriggers: 1 });
    expect(outageGap(WALL0 - 12_500, WALL0, 20)).toEqual({ from: WALL0 - 12_500, to: WALL0, missedTriggers: 624 });
    // A whole number of periods: the trigger at either end fired.
    expect(outageGap(WALL0 - 1000, WALL0, 500).missedTriggers).toBe(1);
    expect(outageGap(WALL0 - 500, WALL0, 500).missedTriggers).toBe(0);
  });

  it('clamps a last trigger after this one (another node ahead of this clock) to an empty outage', () => {
    expect(outageGap(WALL0 + 4000, WALL0, 500)).toEqual({ from: WALL0, to: WALL0, missedTriggers: 0 });
  });
});

describe('TriggerSchedule', () => {
  it('drops nothing while triggers fire on time', async () => {
    const { schedule, gaps, logs, fire } = scheduled(20);
    const next = fire(0, 200);
    await schedule.end(next);
    expect(gaps).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('makes up the triggers a stall of up to MAX_CATCH_UP_MS held back: they fire at once, none dropped', async () => {
    const { schedule, gaps, logs, advance, fire } = scheduled(200);
    let next = fire(0, 60);
    // 150 ms held at 200/s: 30 triggers late. The old 25 ms limit dropped 25 of them.
    advance(150);
    let late = 0;
    next = fire(next, 40, (l) => void (late += l ? 1 : 0));
    expect(late).toBe(30);
    await schedule.end(next);
    expect(gaps).toEqual([]);
    expect(logs).toEqual([]);
  });

  it("dates a stall's gap by the stall, not by the stream's start or its last report (a stall after a day read as a day-long gap)", async () => {
    const { schedule, gaps, logs, advance, fire, wall } = scheduled(1);
    let next = fire(0, DAY / 1000);
    const stalledAt = wall();
    // The trigger due at stalledAt + 1 s fires 10 s late: the last 250 ms of it are made up, 9.75 periods given up.
    advance(11_000);
    next = fire(next, 1);
    next = fire(next, 5);
    await schedule.end(next);
    expect(gaps.map((g) => g.gap)).toEqual([{ cause: 'stall', from: stalledAt + 1000, to: stalledAt + 11_000 - MAX_CATCH_UP_MS, missedTriggers: 9, nextSample: next }]);
    expect(logs).toEqual([`stream s1: 9 triggers dropped in the last 5 s (0 while the window of 4 samples was full, 9 after stalls over ${MAX_CATCH_UP_MS} ms)`]);
  });

  it('carries the fraction of a period a stall gave up to the next drop', async () => {
    const { schedule, gaps, advance, fire } = scheduled(1);
    let next = fire(0, 3);
    advance(11_000);
    next = fire(next, 3);
    advance(11_000);
    next = fire(next, 3);
    await schedule.end(next);
    // 9.75 periods twice: 19 whole triggers, not 2 x 9.
    expect(gaps.map((g) => g.gap.missedTriggers)).toEqual([19]);
  });

  it("counts a full window's waits shorter than a period: half a period each, every second one a trigger", async () => {
    const { schedule, gaps, logs, advance, now, wall } = scheduled(20);
    const t0 = now();
    const w0 = wall();
    let index = 0;
    for (; index < 10; index++) {
      const left = schedule.untilDue();
      if (left > 0) advance(left);
      // The window was full: a slot frees 25 ms after the trigger was due (a period is 50 ms).
      advance(25);
      schedule.windowFreed();
      schedule.fired(index);
    }
    await schedule.end(index);
    // Counting each wait's whole periods counted none of these.
    expect(gaps.map((g) => g.gap)).toEqual([{ cause: 'backlog', from: w0 + 75, to: w0 + (now() - t0), missedTriggers: 5, nextSample: 10 }]);
    expect(logs).toEqual([`stream s1: 5 triggers dropped in the last 1 s (5 while the window of 4 samples was full, 0 after stalls over ${MAX_CATCH_UP_MS} ms)`]);
  });

  it('reports drops a minute after the first one at most, one gap per cause, and what is left at the end', async () => {
    const { schedule, gaps, logs, advance, fire, now } = scheduled(10);
    let next = fire(0, 10);
    // A stall: the trigger due at 2000 fires at 2900, 6.5 periods given up past the catch-up.
    advance(1_000);
    next = fire(next, 1);
    const firstDrop = now();
    // Then a full window: 200 ms more.
    advance(50);
    schedule.windowFreed();
    next = fire(next, 1);
    // Triggers on time for a minute: the drops are reported at the first trigger a minute after the first of them.
    while (gaps.length === 0 && now() - firstDrop < 2 * DROPPED_REPORT_MS) next = fire(next, 1);
    expect(gaps.map((g) => g.gap)).toEqual([
      { cause: 'backlog', from: WALL0 + 1750, to: WALL0 + 1950, missedTriggers: 2, nextSample: next - 1 },
      { cause: 'stall', from: WALL0 + 1000, to: WALL0 + 1650, missedTriggers: 6, nextSample: next - 1 },
    ]);
    expect(gaps[0].at - firstDrop).toBeGreaterThanOrEqual(DROPPED_REPORT_MS);
    expect(gaps[0].at - firstDrop).toBeLessThan(DROPPED_REPORT_MS + 100);
    expect(logs).toHaveLength(1);
    // A later drop waits for its own minute, or the end.
    advance(2_000);
    next = fire(next, 20);
    expect(gaps).toHaveLength(2);
    await schedule.end(next);
    expect(gaps.slice(2).map((g) => g.gap)).toEqual([{ cause: 'stall', from: expect.any(Number), to: expect.any(Number), missedTriggers: 17, nextSample: next }]);
    expect(logs).toHaveLength(2);
  });

  it('logs no gap while the stream is lost or failing, nor its outage; the server log still says what was dropped', async () => {
    let silenced = true;
    const { schedule, gaps, logs, advance, fire, wall } = scheduled(10, { silenced: () => silenced });
    schedule.outage(wall() - 5_000, wall(), 0);
    let next = fire(0, 5);
    advance(3_000);
    next = fire(next, 5);
    await schedule.end(next);
    expect(gaps).toEqual([]);
    expect(logs).toHaveLength(1);
    silenced = false;
    schedule.outage(wall() - 5_000, wall(), next);
    expect(gaps.map((g) => g.gap)).toEqual([{ cause: 'outage', from: wall() - 5_000, to: wall(), missedTriggers: 49, nextSample: next }]);
  });

  it('ends once the gaps it appended are durable', async () => {
    let durable: () => void = () => undefined;
    const { schedule, wall } = scheduled(10, { appendGap: () => new Promise<void>((r) => (durable = r)) });
    schedule.outage(wall() - 1_000, wall(), 0);
    let ended = false;
    const end = schedule.end(1).then(() => (ended = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(ended).toBe(false);
    durable();
    await end;
    expect(ended).toBe(true);
  });
});
