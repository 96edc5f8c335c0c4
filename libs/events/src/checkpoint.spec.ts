import { compareCheckpoints, formatCheckpoint, parseCheckpoint, START_CHECKPOINT } from './checkpoint';

describe('checkpoints', () => {
  it('round-trips and orders by transaction id first, then global position', () => {
    expect(parseCheckpoint(formatCheckpoint(12n, 7n))).toEqual({ transactionId: 12n, globalPosition: 7n });
    expect(compareCheckpoints('12:7', '13:1')).toBeLessThan(0);
    expect(compareCheckpoints('13:1', '12:7')).toBeGreaterThan(0);
    expect(compareCheckpoints('12:7', '12:9')).toBeLessThan(0);
    expect(compareCheckpoints('12:7', '12:7')).toBe(0);
    expect(compareCheckpoints(START_CHECKPOINT, '1:1')).toBeLessThan(0);
    // Beyond 2^53: compared as bigints, not floats.
    expect(compareCheckpoints('9007199254740993:1', '9007199254740992:1')).toBeGreaterThan(0);
  });

  it('rejects malformed checkpoints with a message naming them', () => {
    expect(() => parseCheckpoint('12')).toThrow(/invalid checkpoint '12'/);
    expect(() => parseCheckpoint('a:b')).toThrow(/invalid checkpoint 'a:b'/);
  });
});
