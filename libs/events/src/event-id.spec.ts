import { derivedTimedEventId, newEventId } from './event-id';
import { isUuidV7 } from './partitions';

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

describe('derivedTimedEventId', () => {
  const at = Date.UTC(2026, 11, 5, 17, 30);
  it('is a UUIDv7 filed under the hour it names, so a stream stream accepts it', () => {
    const id = derivedTimedEventId('label:run:3', at);
    expect(isUuidV7(id)).toBe(true);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 11, 5, 17));
  });

  it('is the same for the same fact within the hour, and differs across facts and hours', () => {
    expect(derivedTimedEventId('label:run:3', at)).toBe(derivedTimedEventId('label:run:3', at + 20 * 60_000));
    expect(derivedTimedEventId('label:run:3', at)).not.toBe(derivedTimedEventId('label:run:4', at));
    expect(derivedTimedEventId('label:run:3', at)).not.toBe(derivedTimedEventId('label:run:3', at + 3_600_000));
  });
});
