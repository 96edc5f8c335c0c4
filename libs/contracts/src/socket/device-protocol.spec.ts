import { parseHeartbeat, ProtocolError } from './device-protocol';

describe('heartbeat messages at the boundary', () => {
  const at = '2026-12-07T08:00:00.000Z';

  it('takes a problem report of free text, line breaks and tabs included', () => {
    expect(parseHeartbeat({ at, problem: 'cannot serve a sample:\n\tffmpeg exited' })).toEqual({ at, problem: 'cannot serve a sample:\n\tffmpeg exited' });
  });

  it('refuses control characters in a problem (NUL above all, which Postgres text refuses) and a clock outside 2000-2100', () => {
    for (const problem of ['nul \u0000 byte', 'escape \u001b[31m red', 'del \u007f']) {
      expect(() => parseHeartbeat({ at, problem })).toThrow(ProtocolError);
      expect(() => parseHeartbeat({ at, problem })).toThrow(/problem: must not contain control characters/);
    }
    expect(() => parseHeartbeat({ at: '9999-01-01T00:00:00.000Z' })).toThrow(/at: must be a time between 2000 and 2100/);
    expect(() => parseHeartbeat({ at: '1970-01-01T00:00:00.000Z' })).toThrow(/between 2000 and 2100/);
  });
});
