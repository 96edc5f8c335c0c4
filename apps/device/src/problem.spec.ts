import { messageKind, ProblemReport, SKIP_STREAK } from './problem';

const since = Date.UTC(2026, 11, 7, 17, 0, 0);
const skip = (error: string) => ({ ok: false, skipped: true, cause: 'source' as const, error });
const stale = (ageMs: number, name = 'f.png') => skip(`newest frame ${name} is ${ageMs} ms old (max 500 ms)`);
const busy = { ok: false, skipped: true, cause: 'busy' as const, error: 'busy: the previous capture is still being processed (dropped, not queued)' };
const absent = { ok: false, skipped: true, cause: 'absent' as const, error: 'view 2 of sample s-00001 was not captured' };
const served = { ok: true };
type Reply = Parameters<ProblemReport['observe']>[0];

/** A report on a clock that moves 250 ms per capture, and the changes it logs. */
function reportOf(label = 'source folder') {
  let clock = since;
  const report = new ProblemReport(label, () => clock);
  const changes: { problem: string | null; log: string }[] = [];
  const observe = (reply: Reply, sourceProblem: string | null = null) => {
    clock += 250;
    const change = report.observe(reply, sourceProblem);
    if (change) changes.push(change);
    return change;
  };
  return { report, changes, observe };
}

describe('messageKind', () => {
  it('leaves out every word holding a digit: ages, ids, and frame names made of counters, timestamps or uuids', () => {
    expect(messageKind('newest frame cam-3fa9c2e1.png is 612 ms old (max 500 ms)')).toBe(messageKind('newest frame cam-b71d04aa.png is 5000 ms old (max 500 ms)'));
    expect(messageKind('newest frame frame-000001.png is 612 ms old (max 500 ms)')).toBe('newest frame # is # ms old (max # ms)');
    expect(messageKind('no frame in /cam yet')).not.toBe(messageKind('newest frame f1.png is 612 ms old (max 500 ms)'));
  });
});

describe('ProblemReport (the heartbeat problem of an agent)', () => {
  it('reports captures skipped for one kind of reason once they keep being skipped, once, until one is served', () => {
    const { report, changes, observe } = reportOf();
    // One stale frame on a loaded machine is no problem yet; a busy drop or a view never captured neither counts
    // nor breaks the run.
    observe(stale(612));
    observe(busy);
    observe(absent);
    expect(report.current).toBeNull();
    for (let i = 1; i < SKIP_STREAK; i++) observe(stale(612 + i * 250));
    const expected = `cannot serve a sample (source folder): every capture since ${new Date(since + 250).toISOString()} skipped: newest frame f.png is 1112 ms old (max 500 ms)`;
    expect(report.current).toBe(expected);
    // The same cause with other numbers (the frame ages on) is no change: no heartbeat for each capture.
    for (let i = 0; i < 5; i++) observe(stale(5000 + i * 250));
    expect(report.current).toBe(expected);
    observe(served);
    observe(served);
    expect(changes).toEqual([
      { problem: expected, log: `reporting a problem: ${expected}` },
      { problem: null, log: 'problem cleared: serving again' },
    ]);
  });

  it('counts skips in a row whatever their reasons: frame names that change every capture, or reasons that alternate', () => {
    // A camera whose clock is behind: every frame is new (a uuid name) and already stale.
    const uuids = reportOf();
    for (let i = 0; i < 20; i++) uuids.observe(stale(900 + i, `${(0x3fa9c2e1 + i * 7919).toString(16)}-4e1b-9a7c.png`));
    expect(uuids.changes).toHaveLength(1);
    expect(uuids.changes[0].problem).toMatch(/every capture since .* skipped: newest frame 3faa00bf-4e1b-9a7c\.png is 902 ms old/);

    // Reasons that alternate: reported after SKIP_STREAK captures with the latest one, and not changed at every capture.
    const alternating = reportOf();
    for (let i = 0; i < 8; i++) alternating.observe(i % 2 ? skip('no frame in /cam yet') : stale(700));
    const first = `cannot serve a sample (source folder): every capture since ${new Date(since + 250).toISOString()} skipped:`;
    expect(alternating.changes.map((c) => c.problem)).toEqual([`${first} newest frame f.png is 700 ms old (max 500 ms)`]);
    // One reason holding SKIP_STREAK captures in a row is named.
    for (let i = 0; i < SKIP_STREAK; i++) alternating.observe(skip('no frame in /cam yet'));
    expect(alternating.changes.map((c) => c.problem)).toEqual([`${first} newest frame f.png is 700 ms old (max 500 ms)`, `${first} no frame in /cam yet`]);
  });

  it('another kind of skip is reported with its reason, never as cleared; a failure at once, by kind; cleared when served', () => {
    const { report, changes, observe } = reportOf();
    for (let i = 0; i < SKIP_STREAK; i++) observe(stale(600 + i));
    expect(report.current).toMatch(/newest frame f\.png is 602 ms old/);
    // The camera's frames gone (it was restarted): still no capture served, so never "cleared"; named once it holds.
    expect(observe(skip('no frame in /cam yet'))).toBeNull();
    expect(observe(skip('no frame in /cam yet'))).toBeNull();
    expect(observe(skip('no frame in /cam yet'))).toEqual({ problem: expect.stringMatching(/skipped: no frame in \/cam yet$/), log: expect.stringMatching(/^reporting a problem: /) });
    expect(observe({ ok: false, error: 'infer scores: dataset synth has no sample s-00001' })?.problem).toBe('cannot serve a sample (source folder): infer scores: dataset synth has no sample s-00001');
    expect(observe({ ok: false, error: 'infer scores: dataset synth has no sample s-00002' })).toBeNull();
    // A skip after a failure is no capture served: the failure stays.
    expect(observe(skip('no frame in /cam yet'))).toBeNull();
    expect(report.current).toBe('cannot serve a sample (source folder): infer scores: dataset synth has no sample s-00001');
    expect(observe(served)).toEqual({ problem: null, log: 'problem cleared: serving again' });
    expect(changes.filter((c) => c.problem === null)).toHaveLength(1);
  });

  it("carries the source's own problem while captures are served, until it goes away", () => {
    const { report, observe } = reportOf();
    const ahead = "ignoring a frame dated ahead of this device's clock in /cam (future.png is 3600000 ms ahead ...), and any so dated since: ...";
    expect(observe(served, ahead)?.problem).toBe(`source folder: ${ahead}`);
    expect(observe(served, ahead)).toBeNull();
    for (let i = 0; i < SKIP_STREAK; i++) observe(stale(700), ahead);
    expect(report.current).toMatch(/^source folder: ignoring a frame .*; cannot serve a sample \(source folder\): every capture since .* skipped: newest frame/);
    expect(observe(served, null)).toEqual({ problem: null, log: 'problem cleared: serving again' });
  });

  it('a source problem gone while captures still skip is not "serving again"', () => {
    const { observe } = reportOf();
    observe(served, 'ignoring a frame dated ahead ...');
    expect(observe(stale(700), null)).toEqual({ problem: null, log: 'problem cleared (no capture served yet)' });
  });

  it('a problem longer than the heartbeat takes is one kind, wherever a number of another length moves the cut', () => {
    const { changes, observe } = reportOf();
    // A source's long error output after the age: 999 ms and 1000 ms move the cut at the limit by one character.
    for (let age = 990; age < 1010; age++) observe(skip(`newest frame f.png is ${age} ms old (max 500 ms): ${'ab '.repeat(200)}`));
    expect(changes).toHaveLength(1);
    expect(changes[0].problem).toHaveLength(500);
  });

  it('keeps control characters out of the heartbeat (the server refuses them as malformed)', () => {
    const report = new ProblemReport('source ffmpeg', () => since);
    report.observe({ ok: false, error: 'ffmpeg exited (code 1):\n\tbad input' });
    expect(report.current).toBe('cannot serve a sample (source ffmpeg): ffmpeg exited (code 1):  bad input');
  });
});
