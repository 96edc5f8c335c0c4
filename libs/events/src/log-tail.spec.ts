import type { StoredEvent } from '@ddnn/contracts';
import { START_CHECKPOINT } from './checkpoint';
import { LogTail } from './log-tail';

const event = (n: number, streamId = 'session-a'): StoredEvent =>
  ({ type: 'SampleStarted', streamId, checkpoint: `${100 + n}:${n}`, globalPosition: String(n), data: { sampleIndex: n } }) as unknown as StoredEvent;
const range = (from: number, to: number, streamId?: string) => Array.from({ length: to - from + 1 }, (_, i) => event(from + i, streamId));
const cps = (events: StoredEvent[] | null) => events?.map((e) => e.checkpoint);

/** A log of `events` read as readAll would, counting the reads. */
function fakeLog(events: StoredEvent[]) {
  const log = { events, reads: 0 };
  const read = (limit: number) => async (after: string) => {
    log.reads++;
    const i = after === START_CHECKPOINT ? 0 : log.events.findIndex((e) => e.checkpoint === after) + 1;
    const page = log.events.slice(i, i + limit);
    return { events: page, head: page.length < limit };
  };
  return { log, read };
}

describe('LogTail', () => {
  it('serves any checkpoint in its window with the events after it, and nothing for one outside', () => {
    const tail = new LogTail();
    tail.offer(START_CHECKPOINT, range(1, 5), true);
    expect(cps(tail.slice(START_CHECKPOINT, 2))).toEqual(['101:1', '102:2']);
    expect(cps(tail.slice('103:3', 10))).toEqual(['104:4', '105:5']);
    expect(tail.slice('105:5', 10)).toEqual([]);
    expect(tail.slice('999:99', 10)).toBeNull();
    expect(tail.covers('103:3')).toBe(true);
  });

  it('one read extends the window for every reader waiting at its end', async () => {
    const { log, read } = fakeLog(range(1, 3));
    const tail = new LogTail();
    tail.offer(START_CHECKPOINT, range(1, 3), true);
    log.events = range(1, 6);
    await Promise.all([tail.extend(read(1000)), tail.extend(read(1000)), tail.extend(read(1000))]);
    expect(log.reads).toBe(1);
    expect(cps(tail.slice('103:3', 10))).toEqual(['104:4', '105:5', '106:6']);
  });

  it('a fresh extension waits for a read that began after it arrived, so it sees what committed before the call', async () => {
    const { log, read } = fakeLog(range(1, 2));
    const tail = new LogTail();
    tail.offer(START_CHECKPOINT, range(1, 2), true);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = tail.extend(async (after) => {
      await gate;
      return read(1000)(after);
    });
    log.events = range(1, 4); // committed after the slow read began
    const fresh = tail.extend(read(1000), true);
    release();
    await Promise.all([slow, fresh]);
    expect(cps(tail.slice('102:2', 10))).toEqual(['103:3', '104:4']);
  });

  it('picks one stream out of the window and says whether the window reached the head', () => {
    const tail = new LogTail();
    tail.offer(START_CHECKPOINT, [event(1, 'session-a'), event(2, 'session-b'), event(3, 'session-a')], false);
    expect(tail.covers(START_CHECKPOINT)).toBe(false);
    tail.offer('103:3', [], true);
    expect(tail.covers(START_CHECKPOINT)).toBe(true);
    expect(cps(tail.streamAfter(START_CHECKPOINT, 'session-a', 10))).toEqual(['101:1', '103:3']);
    expect(cps(tail.streamAfter('101:1', 'session-b', 10))).toEqual(['102:2']);
  });

  it('a page from a reader ahead of the window replaces it; one behind it is ignored', () => {
    const tail = new LogTail();
    tail.offer('103:3', range(4, 5), true);
    tail.offer(START_CHECKPOINT, range(1, 2), true);
    expect(tail.slice(START_CHECKPOINT, 10)).toBeNull();
    tail.offer('107:7', range(8, 9), true);
    expect(tail.slice('103:3', 10)).toBeNull();
    expect(cps(tail.slice('107:7', 10))).toEqual(['108:8', '109:9']);
  });

  it('keeps at most 20 000 events, dropping the oldest half, and serves the rest unchanged', () => {
    const tail = new LogTail();
    tail.offer(START_CHECKPOINT, range(1, 20_000), true);
    expect(cps(tail.slice(START_CHECKPOINT, 1))).toEqual(['101:1']);
    tail.offer('20100:20000', range(20_001, 20_001), true);
    expect(tail.slice(START_CHECKPOINT, 1)).toBeNull();
    expect(tail.slice('101:1', 1)).toBeNull();
    const kept = tail.slice('10101:10001', 3);
    expect(cps(kept)).toEqual(['10102:10002', '10103:10003', '10104:10004']);
    expect(tail.slice('20101:20001', 10)).toEqual([]);
  });

  it('forgets everything when cleared, and an extension that ran across the clear appends nothing', async () => {
    const { read } = fakeLog(range(1, 4));
    const tail = new LogTail();
    tail.offer(START_CHECKPOINT, range(1, 2), true);
    const running = tail.extend(read(1000));
    tail.clear();
    await running;
    expect(tail.slice(START_CHECKPOINT, 10)).toBeNull();
    expect(tail.end).toBeNull();
  });

  it('stages committed events only while it is read, as ranges of global positions, until the window takes them in', () => {
    const tail = new LogTail();
    tail.stage(range(1, 3));
    expect(tail.knownPositions()).toBeNull();
    tail.offer(START_CHECKPOINT, range(1, 2), true);
    tail.stage([...range(3, 5), event(9), event(7), event(8)]);
    expect(tail.knownPositions()).toBe('{[3,6),[9,10),[7,9)}');
    expect(tail.stagedAt('4')?.checkpoint).toBe('104:4');
    tail.offer('102:2', range(3, 4), true);
    expect(tail.stagedAt('4')).toBeUndefined();
    expect(tail.knownPositions()).toBe('{[5,6),[9,10),[7,9)}');
    tail.clear();
    expect(tail.knownPositions()).toBeNull();
  });

  it('keeps at most 5 000 staged events, dropping the oldest', () => {
    const tail = new LogTail();
    tail.offer(START_CHECKPOINT, [], true);
    tail.stage(range(1, 5_001));
    expect(tail.stagedAt('2501')).toBeUndefined();
    expect(tail.stagedAt('2502')?.globalPosition).toBe('2502');
    expect(tail.knownPositions()).toBe('{[2502,5002)}');
  });
});
