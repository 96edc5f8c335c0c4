import type { NewEvent } from '@ddnn/contracts';
import { ev } from '../test/fixtures';
import { encodeBatch } from './append-batch';
import { FencedAppendError } from './errors';
import type { AppendRequest } from './event-store';

const version = (type: string) => {
  if (type === 'NoSuchEvent') throw new Error(`unknown event type '${type}'`);
  return type === 'SampleStarted' ? 2 : 1;
};
const ID = '0190d7a4-7b3c-7def-8abc-0123456789ab';
const params = (requests: AppendRequest[]) => {
  const batch = encodeBatch(requests, version);
  const [streams, counts, reqStream, expected, req, ids, ranks, types, versions, data, metadata] = batch.values as string[];
  return { batch, streams, counts, reqStream, expected, req, ids, ranks, types, versions, data, metadata };
};
/** The error that refused a lone request (undefined when it was sent). */
const refusal = (streamId: string, events: NewEvent[], expectedVersion?: AppendRequest['expectedVersion']) =>
  encodeBatch([{ streamId, events, expectedVersion }], version).refused[0]?.message;

describe('encodeBatch', () => {
  it("sends one fence a stream (NULL for unfenced streams, no array when none is fenced), refusing a batch's lower token for a stream", () => {
    const unfenced = encodeBatch([{ streamId: 'stream-a', events: [ev.sampleStarted('a', 0)] }], version);
    expect(unfenced.values[15]).toBeNull();
    const b = encodeBatch(
      [
        { streamId: 'stream-a', events: [ev.sampleStarted('a', 0)], fence: 3 },
        { streamId: 'session-b', events: [ev.sampleStarted('b', 0)] },
        { streamId: 'stream-c', events: [ev.sampleStarted('c', 0)], fence: 1 },
        { streamId: 'stream-a', events: [ev.sampleStarted('a', 1)], fence: 4 },
        { streamId: 'stream-a', events: [ev.sampleStarted('a', 2)] },
        { streamId: 'stream-d', events: [ev.sampleStarted('d', 0)], fence: 0 },
      ],
      version,
    );
    // The lower token for stream-a was taken before the higher one: stale whatever the stream holds now.
    expect(b.refused[0]).toBeInstanceOf(FencedAppendError);
    expect(b.refused[0]).toMatchObject({ streamId: 'stream-a', fence: 3, current: 4 });
    expect(b.refused[5]?.message).toMatch(/fence 0 is not a token of takeFence/);
    expect(b.sent).toEqual([1, 2, 3, 4]);
    expect(b.values[0]).toEqual(['session-b', 'stream-c', 'stream-a']);
    expect(b.values[15]).toBe('{NULL,1,4}');
  });

  it('numbers each event within its stream in request order, one line or element per event', () => {
    const p = params([
      { streamId: 'session-a', events: [ev.sampleStarted('a', 0), { ...ev.sampleStarted('a', 1), eventId: ID, metadata: { node: 'n1' } }] },
      { streamId: 'session-b', events: [ev.sessionAborted('b')], expectedVersion: 'no_stream' },
      { streamId: 'session-b', events: [] },
      { streamId: 'session-a', events: [ev.sampleStarted('a', 2)], expectedVersion: 3 },
    ]);
    expect(p.streams).toEqual(['session-a', 'session-b']);
    expect(p.counts).toBe('{3,1}');
    expect(p.reqStream).toBe('{1,2,2,1}');
    expect(p.expected).toBe('{NULL,-1,NULL,3}');
    expect(p.req).toBe('{1,1,2,4}');
    expect(p.ids.slice(1, -1).split(',')[1]).toBe(ID);
    expect(p.ids.slice(1, -1).split(',')[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(p.ranks).toBe('{1,2,1,3}');
    expect(p.types).toBe('SampleStarted\nSampleStarted\nSessionAborted\nSampleStarted');
    expect(p.versions).toBe('{2,2,1,2}');
    expect(p.data.split('\n').map((l) => JSON.parse(l))).toEqual([
      ev.sampleStarted('a', 0).data,
      ev.sampleStarted('a', 1).data,
      ev.sessionAborted('b').data,
      ev.sampleStarted('a', 2).data,
    ]);
    expect(p.metadata).toBe('{}\n{"node":"n1"}\n{}\n{}');
    expect(p.batch).toMatchObject({ sent: [0, 1, 2, 3], reqStream: [0, 1, 1, 0], reqBefore: [0, 0, 1, 2], reqFirst: [0, 2, 3, 3] });
  });

  it('leaves out a request the store cannot write, with its error, and sends the others as if it were not there', () => {
    const p = params([
      { streamId: 'session-a', events: [ev.sampleStarted('a', 0)] },
      // Refused at its second event: its first event, and the stream it introduced, are taken back.
      { streamId: 'session-new', events: [ev.sampleStarted('n', 0), ev.sessionAborted('n', 'x\u0000')] },
      { streamId: 'session-a', events: [ev.sampleStarted('a', 1), { type: 'NoSuchEvent', data: {} } as never] },
      { streamId: 'session-a', events: [ev.sampleStarted('a', 2)] },
    ]);
    expect(p.batch.refused.map((e) => e?.message)).toEqual([
      undefined,
      expect.stringMatching(/data of SessionAborted holds \\u0000/),
      "unknown event type 'NoSuchEvent'",
      undefined,
    ]);
    expect(p.batch.sent).toEqual([0, 3]);
    expect(p.streams).toEqual(['session-a']);
    expect(p.counts).toBe('{2}');
    expect(p.reqStream).toBe('{1,1}');
    expect(p.req).toBe('{1,2}');
    expect(p.ranks).toBe('{1,2}');
    expect(p.data.split('\n').map((l) => JSON.parse(l).sampleIndex)).toEqual([0, 2]);
    expect(p.batch.ids).toHaveLength(2);
    expect(p.batch).toMatchObject({ reqStream: [0, 0], reqBefore: [0, 1], reqFirst: [0, 1] });
  });

  it('names the problem of each request it refuses', () => {
    expect(refusal('', [ev.sampleStarted('a', 0)])).toMatch(/streamId must be a non-empty string/);
    expect(refusal('s', 'x' as never)).toMatch(/events must be an array/);
    expect(refusal('s', [{ data: {} } as never])).toMatch(/every event needs a type/);
    expect(refusal('s', [{ type: 'NoSuchEvent', data: {} } as never])).toMatch(/unknown event type 'NoSuchEvent'/);
    expect(refusal('s', [{ type: 'SessionAborted', data: null } as never])).toMatch(/SessionAborted needs a data object/);
    expect(refusal('s', [{ type: 'SessionAborted', data: [1] } as never])).toMatch(/data of SessionAborted must serialize to a JSON object/);
    expect(refusal('s', [{ type: 'SessionAborted', data: { n: 1n } } as never])).toMatch(/cannot be written as JSON \(Do not know how to serialize a BigInt\)/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(refusal('s', [{ type: 'SessionAborted', data: cyclic } as never])).toMatch(/cannot be written as JSON \(Converting circular structure/);
    expect(refusal('s', [{ ...ev.sampleStarted('a', 0), eventId: 'abc' }])).toMatch(/eventId 'abc' of SampleStarted is not a uuid/);
    expect(refusal('s', [ev.sampleStarted('a', 0)], -3 as never)).toMatch(/invalid expectedVersion -3/);
    expect(refusal('s', [{ ...ev.sampleStarted('a', 0), metadata: 'm' as never }])).toMatch(/metadata of SampleStarted must serialize to a JSON object/);
  });

  it('refuses the escapes jsonb cannot store (U+0000, lone surrogates), and only those', () => {
    expect(refusal('s', [ev.sessionAborted('a', 'x\u0000y')])).toMatch(/data of SessionAborted holds \\u0000, which PostgreSQL's jsonb cannot store/);
    expect(refusal('s', [ev.sessionAborted('a', 'x\ud800y')])).toMatch(/holds \\ud800/);
    expect(refusal('s', [ev.sessionAborted('a', 'x\udfffy')])).toMatch(/holds \\udfff/);
    expect(refusal('s', [{ ...ev.sessionAborted('a'), metadata: { node: '\u0000' } }])).toMatch(/metadata of SessionAborted holds \\u0000/);
    // The text "\u0000" (escaped backslashes), control characters and surrogate pairs are fine.
    for (const ok of ['x\\u0000y', 'x\\\\u0000y', 'x\\\\\\\\ud800', 'tab\tand\u0001', 'pair \ud83d\ude00']) {
      const p = params([{ streamId: 's', events: [ev.sessionAborted('a', ok)] }]);
      expect(p.batch.refused).toEqual([undefined]);
      expect(JSON.parse(p.data).reason).toBe(ok);
    }
  });
});
