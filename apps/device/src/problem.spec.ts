import { ProblemReport, SKIP_STREAK } from './problem';

const since = Date.UTC(2026, 11, 7, 17, 0, 0);
const stale = (ageMs: number) => ({ ok: false, skipped: true, cause: 'source' as const, error: `newest frame f.png is ${ageMs} ms old (max 500 ms)` });
const busy = { ok: false, skipped: true, cause: 'busy' as const, error: 'busy: the previous capture is still being processed (dropped, not queued)' };
const served = { ok: true };

describe('ProblemReport (the heartbeat problem of an agent)', () => {
  it('reports captures skipped for one kind of reason once they keep being skipped, once, until one is served', () => {
    let clock = since;
    const report = new ProblemReport('source folder', () => clock);
    const changes: (string | null)[] = [];
    const observe = (reply: Parameters<ProblemReport['observe']>[0]) => {
      clock += 250;
      if (report.observe(reply)) changes.push(report.current);
    };
    // One stale frame on a loaded machine is no problem yet; a busy drop neither counts nor breaks the run.
    observe(stale(612));
    observe(busy);
    expect(report.current).toBeNull();
    for (let i = 1; i < SKIP_STREAK; i++) observe(stale(612 + i * 250));
    const expected = `cannot serve a sample (source folder): every capture since ${new Date(since + 250).toISOString()} skipped: newest frame f.png is 612 ms old (max 500 ms)`;
    expect(report.current).toBe(expected);
    // The same cause with other numbers (the frame ages on) is no change: no heartbeat for each capture.
    for (let i = 0; i < 5; i++) observe(stale(5000 + i * 250));
    observe({ ok: true });
    observe({ ok: true });
    expect(changes).toEqual([expected, null]);
  });

  it('another kind of skip starts over; a failure is reported at once, by kind', () => {
    const report = new ProblemReport('source folder', () => since);
    for (let i = 0; i < SKIP_STREAK; i++) report.observe(stale(600 + i));
    expect(report.current).toMatch(/newest frame f\.png is 600 ms old/);
    expect(report.observe({ ok: false, skipped: true, cause: 'source', error: `no frame in /cam yet` })).toBe(true);
    expect(report.current).toBeNull();
    expect(report.observe({ ok: false, error: 'infer scores: dataset synth has no sample s-00001' })).toBe(true);
    expect(report.current).toBe('cannot serve a sample (source folder): infer scores: dataset synth has no sample s-00001');
    expect(report.observe({ ok: false, error: 'infer scores: dataset synth has no sample s-00002' })).toBe(false);
    expect(report.observe(served)).toBe(true);
    expect(report.current).toBeNull();
  });

  it("carries the source's own problem while captures are served, until it goes away", () => {
    const report = new ProblemReport('source folder', () => since);
    const ahead = 'ignoring a frame dated ahead of this device\'s clock in /cam (future.png is 3600000 ms ahead ...)';
    expect(report.observe(served, ahead)).toBe(true);
    expect(report.current).toBe(`source folder: ${ahead}`);
    expect(report.observe(served, ahead)).toBe(false);
    for (let i = 0; i < SKIP_STREAK; i++) report.observe(stale(700), ahead);
    expect(report.current).toMatch(/^source folder: ignoring a frame .*; cannot serve a sample \(source folder\): every capture since .* skipped: newest frame/);
    expect(report.observe(served, null)).toBe(true);
    expect(report.current).toBeNull();
  });

  it('keeps control characters out of the heartbeat (the server refuses them as malformed)', () => {
    const report = new ProblemReport('source ffmpeg', () => since);
    report.observe({ ok: false, error: 'ffmpeg exited (code 1):\n\tbad input' });
    expect(report.current).toBe('cannot serve a sample (source ffmpeg): ffmpeg exited (code 1):  bad input');
  });
});
