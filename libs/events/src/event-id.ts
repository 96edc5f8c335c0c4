import { createHash, randomUUID } from 'node:crypto';

/**
 * A new event id: a UUIDv7 (RFC 9562), its first 48 bits the Unix time in milliseconds, the other 74 random.
 * Ids in time order go in at the right edge of the events table's unique index instead of at a random leaf: the
 * index stays smaller and in cache, and each insert is cheaper (~1 us a row less at 300,000 rows here, more as the
 * table outgrows memory). The random part comes from randomUUID (Node batches its random bytes).
 */
export function newEventId(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx with the RFC variant bits in V; keep 4xxx's three random
  // digits, the variant and the rest, and put the time and version 7 in front.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}

/**
 * A derived id for an event of a `stream-` stream, whose ids must be UUIDv7 (their time prefix picks the day
 * partition retention drops): the time is `at` floored to the hour and the rest comes from the name, so the same
 * fact posted twice within that hour (two nodes racing, a retried request) gets the same id and is stored once.
 */
export function derivedTimedEventId(name: string, at: number): string {
  const hour = Math.floor(at / 3_600_000) * 3_600_000;
  const time = hour.toString(16).padStart(12, '0');
  const h = createHash('sha1').update('ddnn-event:').update(name).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
