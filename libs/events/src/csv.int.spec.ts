import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { streamIds, type NewEvent } from '@ddnn/contracts';
import type { Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedDatabase } from '../test/database';
import { exportEventsCsv, upcastEventsCsv } from './csv';
import { UpcastError } from './errors';
import { EVENTS_CSV_COLUMNS, EventStore } from './event-store';
import { Upcasters } from './upcasting';

/** A writable that keeps what it is given, as text. */
function sink(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return Object.assign(w, { text: () => Buffer.concat(chunks).toString('utf8') });
}

async function collect(gen: AsyncGenerator<string>): Promise<string> {
  let text = '';
  for await (const chunk of gen) text += chunk;
  return text;
}

// Version 2 of SessionAborted renamed `why` to `reason` and added `samplesDone`.
const sessionAbortedV2 = () =>
  new Upcasters(
    [
      {
        type: 'SessionAborted',
        fromVersion: 1,
        upcast: (d) => {
          const { why, ...rest } = d as { why: string; sessionId: string };
          return { ...rest, reason: why, samplesDone: 0 };
        },
      },
    ],
    { SampleStarted: 1, SessionAborted: 2 },
  );

describe('events CSV export (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    env = await migratedDatabase(4);
    pool = env.pool;
    store = new EventStore(pool);
  });
  afterAll(() => env.close());

  /** Events whose CSV needs every kind of quoting: commas, quotes, CR, LF, an empty string, non-ASCII, nulls. */
  function awkwardEvents(sessionId: string): NewEvent[] {
    const ids = ['plain', 'a,b', 'say "hi"', 'line\nbreak', 'cr\rlf\r\n', '', 'ünïcode ✓ 𝄞', '\\.', ' lead'];
    return ids.flatMap((sampleId, i) => [
      { ...ev.sampleStarted(sessionId, i, i % 2 ? null : i), data: { sessionId, sampleIndex: i, sampleId, label: i % 2 ? null : i } },
      { ...ev.sessionAborted(sessionId, `why, "${sampleId}"`), metadata: { node: 'api,1', correlationId: `c"${i}"` } },
    ]) as NewEvent[];
  }

  it('writes the same bytes through COPY as through the upcasting path when nothing needs upcasting', async () => {
    const stream = streamIds.session(randomUUID());
    await store.appendToStream(stream, awkwardEvents('awkward'));
    expect(await store.streamIsCurrent(stream)).toBe(true);

    const copied = sink();
    expect(await store.copyCurrentStreamCsv(stream, copied)).toBe(true);
    const upcastPath = await collect(upcastEventsCsv(store, stream, 5));
    expect(copied.text()).toBe(upcastPath);

    const lines = upcastPath.split('\n');
    expect(lines[0]).toBe(EVENTS_CSV_COLUMNS.join(','));
    expect(upcastPath).toContain(',"{""label"": null, ""sampleId"": """", ""sessionId"": ""awkward"", ""sampleIndex"": 5}",');
    expect(upcastPath).toContain('"{""node"": ""api,1"", ""correlationId"": ""c\\""0\\""""}"');

    // exportEventsCsv takes the COPY path here, and ends its output.
    const exported = sink();
    await exportEventsCsv(store, stream, exported);
    expect(exported.writableFinished).toBe(true);
    expect(exported.text()).toBe(upcastPath);
  });

  it('exports payloads stored at an old schema version upcast, the rest as stored, through the upcasting path', async () => {
    const sessionId = randomUUID();
    const stream = streamIds.session(sessionId);
    await store.appendToStream(stream, [ev.sampleStarted(sessionId, 0)]);
    await pool.query(
      `INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data)
       VALUES ($1, 2, $2, 'SessionAborted', 1, '{"sessionId": "old", "why": "power, cut"}')`,
      [stream, randomUUID()],
    );
    await pool.query(`UPDATE streams SET stream_position = 2 WHERE stream_id = $1`, [stream]);
    const v2 = new EventStore(pool, { upcasters: sessionAbortedV2() });
    expect(await v2.streamIsCurrent(stream)).toBe(false);
    const refused = sink();
    expect(await v2.copyCurrentStreamCsv(stream, refused)).toBe(false);
    expect(refused.text()).toBe('');

    const out = sink();
    await exportEventsCsv(v2, stream, out);
    const [head, started, aborted, end] = out.text().split('\n');
    expect(head).toBe(EVENTS_CSV_COLUMNS.join(','));
    expect(end).toBe('');
    expect(started).toMatch(/^\d+,1,\d+:\d+,SampleStarted,1,[0-9a-f-]{36},\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,"\{""label"": 0, ""sampleId"": ""s0"", ""sessionId"": ""[0-9a-f-]{36}"", ""sampleIndex"": 0\}",\{\}$/);
    expect(aborted).toMatch(/^\d+,2,\d+:\d+,SessionAborted,2,/);
    expect(aborted.endsWith(`,"${JSON.stringify({ sessionId: 'old', reason: 'power, cut', samplesDone: 0 }).replace(/"/g, '""')}",{}`)).toBe(true);
  });

  it('refuses, through the upcasting path, a stream holding a version newer than the code or a type outside the catalogue', async () => {
    const stream = streamIds.session(randomUUID());
    await store.appendToStream(stream, [ev.sampleStarted('n', 0)]);
    await pool.query(`UPDATE events SET schema_version = 9 WHERE stream_id = $1`, [stream]);
    expect(await store.streamIsCurrent(stream)).toBe(false);
    await expect(exportEventsCsv(store, stream, sink())).rejects.toBeInstanceOf(UpcastError);
    await pool.query(`UPDATE events SET schema_version = 1, type = 'NoSuchEvent' WHERE stream_id = $1`, [stream]);
    expect(await store.streamIsCurrent(stream)).toBe(false);
    await expect(exportEventsCsv(store, stream, sink())).rejects.toBeInstanceOf(UpcastError);
  });

  it.each(['copy', 'upcast'] as const)('holds back-pressure on the %s path: a stalled reader stalls the read, and the export resumes', async (path) => {
    const sessionId = randomUUID();
    const stream = streamIds.session(sessionId);
    const big = 'x'.repeat(2000);
    for (let b = 0; b < 10; b++) {
      await store.appendToStream(stream, Array.from({ length: 1000 }, (_, i) => ({ ...ev.sampleStarted(sessionId, b * 1000 + i), data: { sessionId, sampleIndex: b * 1000 + i, sampleId: big, label: 1 } })) as NewEvent[]);
    }
    // The upcasting path is taken for a registry under which one (extra) event is old.
    const s = path === 'copy' ? store : new EventStore(pool, { upcasters: sessionAbortedV2() });
    if (path === 'upcast') {
      await pool.query(
        `INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data)
         VALUES ($1, 10001, $2, 'SessionAborted', 1, '{"sessionId": "old", "why": "w"}')`,
        [stream, randomUUID()],
      );
    }
    let received = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, done) {
        received += chunk.length;
        // The first 64 kB are taken, then nothing until released.
        if (received < 64 * 1024) done();
        else void gate.then(() => done());
      },
    });
    const exporting = exportEventsCsv(s, stream, slow);
    // Absence of reading can only be shown over time: a second for an unbounded export to overrun the bound.
    await new Promise((r) => setTimeout(r, 1000));
    // The export is over 20 MB; a stalled reader holds what was read to the streams' buffers (what waits in the
    // writable's queue counts: an export that wrote a whole page or all of it at once would show there).
    expect(received + slow.writableLength).toBeLessThan(2 * 1024 * 1024);
    release();
    await exporting;
    expect(received).toBeGreaterThan(20e6);
  });
});
