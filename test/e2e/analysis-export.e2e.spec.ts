import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { Pool } from 'pg';
import type { CompareResponse, NewEvent, StoredEvent } from '@ddnn/contracts';
import { sampleTraffic, streamIds } from '@ddnn/contracts';
import { compareCheckpoints, EventStore } from '@ddnn/events';
import { evaluatePolicy, sessionSamplesFromEvents, syntheticSessionEvents } from '@ddnn/policies';
import { type ApiProcess, createTestDatabase, startApi, tempDir, type TestDatabase, waitFor } from '@ddnn/testing';

const TOKEN = 'e2e-export-operator-token-012345';
const SAMPLES = 20_000;
const TRICKY_ID = 'cam "0", first\nsecond line, ünïcode';

/**
 * RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. Field by field with a sticky
 * regex (slices, not a string built a character at a time): the events export is ~90 MB, and parsing it
 * a character at a time took most of this test's time budget on a loaded machine.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  const field = /"([^"]*(?:""[^"]*)*)"|[^,\r\n"]*/y;
  for (let i = 0; i < text.length; ) {
    field.lastIndex = i;
    const m = field.exec(text);
    if (!m) throw new Error(`unparseable CSV at ${i}`);
    row.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[0]);
    i = field.lastIndex;
    if (text[i] === '\r') i++;
    if (text[i] === ',') i++;
    else if (text[i] === '\n' || i >= text.length) {
      rows.push(row);
      row = [];
      i++;
    } else throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i} of the CSV`);
  }
  return rows;
}

/** Resident memory of a process now (Linux), in bytes. */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

describe('streamed CSV export and analysis of a large session (real Postgres, built API)', () => {
  let db: TestDatabase;
  let api: ApiProcess | undefined;
  let pool: Pool | undefined;
  const sessionId = randomUUID();
  let events: StoredEvent[] = [];
  const headers = { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const get = (url: string) => fetch(`${api!.url}${url}`, { headers });

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi({ DATABASE_URL: db.url, DDNN_ADMIN_TOKEN: TOKEN, DDNN_DATA_DIR: tempDir('ddnn-e2e-export-') });
    events = syntheticSessionEvents({ sessionId, samples: SAMPLES, seed: 5, missScores: 0.03, missFeatures: 0.03, unlabelled: 0.05 });
    const first = events.find((e): e is StoredEvent<'SampleStarted'> => e.type === 'SampleStarted' && e.data.sampleIndex === 0)!;
    first.data.sampleId = TRICKY_ID;
    // Every third miss at the scores stage a skipped capture (a camera that captured nothing), not a device's miss.
    events.filter((e): e is StoredEvent<'DeviceMissed'> => e.type === 'DeviceMissed' && e.data.stage === 'scores').forEach((e, k) => {
      if (k % 3 === 0) e.data.reason = 'skipped';
    });
    // Appended through the event store, as the session engine does, in batches.
    pool = new Pool({ connectionString: db.url, max: 2 });
    const store = new EventStore(pool);
    for (let i = 0; i < events.length; i += 5000) {
      await store.appendToStream(streamIds.session(sessionId), events.slice(i, i + 5000).map((e) => ({ type: e.type, data: e.data }) as NewEvent));
    }
    // The API's subscriptions (projections, rollup, Prometheus totals) fold these events as they arrive: the export's
    // memory below is measured once they are done, not with their catch-up (CI saw 175 MB with it, 52 MB without).
    const [{ head }] = (await pool.query<{ head: string }>(`SELECT transaction_id::text || ':' || global_position AS head FROM events ORDER BY global_position DESC LIMIT 1`)).rows;
    await waitFor('the API to fold the session', async () => {
      const { rows } = await pool!.query<{ checkpoint: string }>('SELECT checkpoint FROM subscription_checkpoints');
      return rows.length >= 3 && rows.every((r) => compareCheckpoints(r.checkpoint, head) >= 0);
    }, 300_000, 250);
  }, 600_000);

  afterAll(async () => {
    await pool?.end();
    await api?.stop('SIGTERM');
    await db?.drop();
  });

  it('streams every event as CSV, correctly quoted, without holding the export in memory', async () => {
    const pid = api!.child.pid!;
    const before = rss(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 50);
    const t0 = performance.now();
    const res = await get(`/api/sessions/${sessionId}/export?format=csv&what=events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await res.text().finally(() => clearInterval(sampler));
    const seconds = (performance.now() - t0) / 1000;
    const grew = peak - before;
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['global_position', 'stream_position', 'checkpoint', 'type', 'schema_version', 'event_id', 'created_at', 'data', 'metadata']);
    expect(rows).toHaveLength(events.length + 1);
    for (let i = 1; i < rows.length; i++) {
      const [, position, checkpoint, type, , , createdAt, data] = rows[i];
      const e = events[i - 1];
      if (Number(position) !== i || type !== e.type || !checkpoint.endsWith(`:${rows[i][0]}`) || Number.isNaN(Date.parse(createdAt))) {
        throw new Error(`row ${i} does not match event ${i}: ${rows[i].slice(0, 7).join(',')}`);
      }
      if (!isDeepStrictEqual(JSON.parse(data), e.data)) throw new Error(`row ${i}: data ${data} differs from event ${i}`);
    }
    // A buffered export would hold the whole text in the API process (and the rows it came from, several
    // times more); a streamed one grows by its buffers and the garbage collector's slack (sampled every 50 ms).
    process.stdout.write(
      `events CSV: ${events.length} events, ${(text.length / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s; API RSS peaked ${(grew / 1e6).toFixed(1)} MB above its level before\n`,
    );
    // Big enough that holding it would show: 91.5 MB for 20,000 samples since a stage's sections are one event
    // (113 MB before), against 36-40 MB of growth seen.
    expect(text.length).toBeGreaterThan(80e6);
    expect(grew).toBeLessThan(text.length);
  });

  it('exports one row per sample with its live exit, answer and bytes', async () => {
    const pid = api!.child.pid!;
    const before = rss(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 50);
    const t0 = performance.now();
    const res = await get(`/api/sessions/${sessionId}/export?format=csv&what=samples`);
    expect(res.status).toBe(200);
    const text = await res.text().finally(() => clearInterval(sampler));
    process.stdout.write(
      `samples CSV: ${SAMPLES} samples from ${events.length} events, ${(text.length / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s; API RSS peaked ${((peak - before) / 1e6).toFixed(1)} MB above its level before\n`,
    );
    const [head, ...rows] = parseCsv(text);
    expect(rows).toHaveLength(SAMPLES);
    const col = (name: string) => head.indexOf(name);
    const of = <K extends StoredEvent['type']>(t: K) => events.filter((e): e is Extract<StoredEvent, { type: K }> => e.type === t);
    const exits = new Map(of('ExitDecided').filter((e) => !e.data.shadow && e.data.exited).map((e) => [e.data.sampleIndex, e.data]));
    const labels = new Map(of('SampleStarted').map((e) => [e.data.sampleIndex, e.data]));
    const bytes = new Map<number, number>();
    for (const e of events) {
      const t = sampleTraffic(e);
      if (t) for (const m of t.messages) if (!m.shadow) bytes.set(t.sampleIndex, (bytes.get(t.sampleIndex) ?? 0) + m.bytes);
    }
    const missCounts = new Map<string, number>();
    for (const e of of('DeviceMissed')) {
      const key = `${e.data.sampleIndex}:${e.data.reason === 'skipped' ? 'skipped' : e.data.stage}`;
      missCounts.set(key, (missCounts.get(key) ?? 0) + 1);
    }
    const misses = (i: number, kind: 'scores' | 'features' | 'skipped') => String(missCounts.get(`${i}:${kind}`) ?? 0);
    rows.forEach((r, i) => {
      const x = exits.get(i);
      const s = labels.get(i)!;
      // A sample no device answered has no exit: no tier, no prediction, no right or wrong.
      const answer = x ? [x.tier, String(x.prediction), s.label === null ? '' : x.prediction === s.label ? 'true' : 'false'] : ['', '', ''];
      const expected = [String(i), s.sampleId, s.label === null ? '' : String(s.label), ...answer, String(bytes.get(i) ?? 0), misses(i, 'scores'), misses(i, 'features'), misses(i, 'skipped')];
      const got = [r[col('sample_index')], r[col('sample_id')], r[col('label')], r[col('exit_tier')], r[col('prediction')], r[col('correct')], r[col('bytes')], r[col('devices_missed_scores')], r[col('devices_missed_features')], r[col('devices_not_captured')]];
      if (got.join('|') !== expected.join('|')) throw new Error(`sample ${i}: got ${got.join('|')}, expected ${expected.join('|')}`);
    });
    expect(rows[0][col('sample_id')]).toBe(TRICKY_ID);
  });

  it('compare through the API equals the library on the same events; sessions.csv and bad requests', async () => {
    const policies = [{ kind: 'entropy', thresholds: { local: 0.4 } }, { kind: 'margin', thresholds: { local: 0.3 } }, { kind: 'raw-offload' }] as const;
    const res = await fetch(`${api!.url}/api/analysis/compare`, { method: 'POST', headers, body: JSON.stringify({ sessionIds: [sessionId], policies }) });
    expect(res.status).toBe(200);
    const { rows } = (await res.json()) as CompareResponse;
    const table = sessionSamplesFromEvents(events);
    rows.forEach((r, i) => {
      const expected = evaluatePolicy(table, policies[i]);
      const { dominated: _dominated, ...row } = r;
      expect(row).toEqual(JSON.parse(JSON.stringify(expected)));
    });

    const sessions = await get('/api/analysis/sessions.csv');
    expect(sessions.status).toBe(200);
    expect((await sessions.text()).split('\n')[0]).toBe(
      'id,status,mode,model_id,dataset,split,live_policy,sample_count,samples_done,created_at,started_at,finished_at,samples_finished,accuracy,local_exit_rate,bytes_per_sample',
    );
    expect((await get(`/api/sessions/${sessionId}/export?format=parquet`)).status).toBe(400);
    expect((await get(`/api/sessions/${sessionId}/export?what=everything`)).status).toBe(400);
    expect((await get(`/api/sessions/${randomUUID()}/export?format=csv`)).status).toBe(404);
    expect((await fetch(`${api!.url}/api/sessions/${sessionId}/export`)).status).toBe(401);
  });
});
