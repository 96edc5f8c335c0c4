import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { runMigrations } from './src/migrate';

async function main() {
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const name = 'ddnn_prof_' + Date.now();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  await runMigrations(url);
  const pool = new Pool({ connectionString: url, max: 2 });
  await pool.query(`CREATE TABLE ev2 (LIKE events INCLUDING ALL)`);
  await pool.query(`CREATE TABLE ev3 (LIKE events INCLUDING DEFAULTS)`);
  const N = 1000;
  const mk = (i: number) => JSON.stringify({ sessionId: 'bench-1', sampleIndex: i, tier: 'device', node: 'dev-1', view: 1, probabilities: [0.1, 0.3, 0.6], entropy: 0.42, latencyMs: 3.1, shadow: false });
  const t = async (label: string, f: () => Promise<unknown>, reps = 10) => {
    const s = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) await f();
    const sec = Number(process.hrtime.bigint() - s) / 1e9;
    console.log(label, Math.round((reps * N) / sec), 'ev/s');
  };
  const arrays = (reqs: number) => {
    const ids = Array.from({ length: N }, () => randomUUID());
    const old = [Array.from({ length: reqs }, () => 'session-x'), Array(reqs).fill(null), Array.from({ length: N }, (_, i) => Math.floor(i / (N / reqs)) + 1), ids, Array(N).fill('SectionEvaluated'), Array(N).fill(1), Array.from({ length: N }, (_, i) => mk(i)), Array(N).fill('{"node":"bench"}')];
    return old;
  };
  const args = (reqs: number) => {
    const rows = Array.from({ length: N }, (_, i) => ({ r: Math.floor(i / (N / reqs)) + 1, s: 'session-x', id: randomUUID(), t: 'SectionEvaluated', v: 1, d: JSON.parse(mk(i)), m: { node: 'bench' } }));
    return [Array.from({ length: reqs }, () => 'session-x'), Array(reqs).fill(null), JSON.stringify(rows)];
  };
  const SQL = 'SELECT * FROM append_events($1::text[], $2::bigint[], $3::jsonb)';
  await t('select 1 x1000', () => pool.query('SELECT 1'), 1);
  await t('append empty', () => pool.query(SQL, [['session-x'], [null], '[]']), 10);
  {
    const { rows } = await pool.query(`SELECT pg_get_functiondef('append_events'::regproc) AS d`);
    const def: string = rows[0].d;
    await pool.query(def.replace('public.append_events(', 'public.append_nonotify(').replace("PERFORM pg_notify('ddnn_events', '');", 'NULL;'));
    await t('append nonotify 1 req x1000', () => pool.query('SELECT * FROM append_nonotify($1::text[], $2::bigint[], $3::jsonb)', args(1)));
    await pool.query(def.replace('public.append_events(', 'public.append_noret(').replace(/RETURN QUERY[\s\S]*?\), upd AS/, 'WITH r AS (SELECT 1), ins AS (SELECT 1), upd AS (SELECT 1), x AS'));
  }
  {
    const c = await pool.connect();
    for (let i = 0; i < 8; i++) await c.query(SQL, args(1));
    await c.query(`LOAD 'auto_explain'`);
    await c.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = 'notice'; SET auto_explain.log_timing = on`);
    const notes: string[] = [];
    c.on('notice', (n) => notes.push(n.message ?? ''));
    const t0 = Date.now();
    await c.query(SQL, args(1));
    console.log('call ms', Date.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
    for (const n of notes) console.log(n.split('\n').filter((l) => /duration|Query Text|actual time=[0-9.]+\.\.([0-9]{2,}|[5-9])/.test(l)).join('\n').slice(0, 3000));
    await c.query('RESET ALL');
    c.release();
  }
  await t('append 1 req x1000', () => pool.query(SQL, args(1)));
  await t('anycheck 1000', () => pool.query('SELECT count(*) FROM events WHERE event_id = ANY($1::uuid[])', [arrays(1)[3]]));
  await t('append 1000 req x1', () => pool.query(SQL, args(1000)));
  await t('append 10 req x100', () => pool.query(SQL, args(10)));
  let pos = 0;
  await t('plain insert unnest (indexes)', () => {
    const a = arrays(1);
    const q = pool.query(`INSERT INTO ev2 (stream_id, stream_position, event_id, type, schema_version, data, metadata, global_position) OVERRIDING SYSTEM VALUE
      SELECT 'session-x', $1::bigint + o, id, t, v, d, m, $1::bigint + o FROM unnest($2::uuid[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[]) WITH ORDINALITY AS u(id,t,v,d,m,o)`, [pos, a[3], a[4], a[5], a[6], a[7]]);
    pos += N;
    return q;
  });
  pos = 0;
  await t('plain insert unnest (no idx)', () => {
    const a = arrays(1);
    const q = pool.query(`INSERT INTO ev3 (stream_id, stream_position, event_id, type, schema_version, data, metadata, global_position)
      SELECT 'session-x', $1::bigint + o, id, t, v, d, m, $1::bigint + o FROM unnest($2::uuid[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[]) WITH ORDINALITY AS u(id,t,v,d,m,o)`, [pos, a[3], a[4], a[5], a[6], a[7]]);
    pos += N;
    return q;
  });
  const a = arrays(1);
  const s = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) arrays(1);
  console.log('client arrays build ms per 1000:', Number(process.hrtime.bigint() - s) / 1e6 / 20);
  void a;
  await pool.end();
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
}
main();
