import { newEventId } from './event-id';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newEventId', () => {
  it('is a UUIDv7 whose first 48 bits are the time in milliseconds', () => {
    const id = newEventId(0x0189_abcd_ef01);
    expect(id).toMatch(V7);
    expect(id.slice(0, 13)).toBe('0189abcd-ef01');
    expect(newEventId()).toMatch(V7);
  });

  it('sorts by time across milliseconds, as text and as PostgreSQL compares uuids (bytewise)', () => {
    const ids = [5, 1_000, 1_764_000_000_000, 1_764_000_000_001, 2 ** 47].map((t) => newEventId(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newEventId(1_764_000_000_000)));
    expect(ids.size).toBe(10_000);
  });
});
