import { MALFORMED_LOG_INTERVAL_MS, MalformedMessages } from './malformed-messages';

describe('MalformedMessages', () => {
  it('counts every message per device and logs at most once a minute per device, with the count', () => {
    let now = 1_000_000;
    const lines: string[] = [];
    const m = new MalformedMessages(() => now, (l) => lines.push(l));
    for (let i = 0; i < 500; i++) m.record('d1', 'cam-1', `bad ${i}`);
    m.record('d2', 'cam-2', 'other');
    expect(m.count('d1')).toBe(500);
    expect(m.count('d2')).toBe(1);
    expect(m.count('d3')).toBe(0);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/cam-1 \(d1\) sent 1 malformed message\(s\).*latest: bad 0/);
    now += MALFORMED_LOG_INTERVAL_MS - 1;
    m.record('d1', 'cam-1', 'still bad');
    expect(lines).toHaveLength(2);
    now += 1;
    m.record('d1', 'cam-1', 'bad again');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/sent 501 malformed message\(s\) since the last report \(502 in all\); latest: bad again/);
  });

  it('cuts a long problem text', () => {
    const lines: string[] = [];
    new MalformedMessages(() => 0, (l) => lines.push(l)).record('d', 'n', 'x'.repeat(10_000));
    expect(lines[0].length).toBeLessThan(500);
  });
});
