import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type {
  CompareResponse,
  CreateSessionRequest,
  LinkTraffic,
  PolicyEvaluation,
  SessionEventsPage,
  SessionView,
  SimulationView,
  StoredEvent,
  SweepResult,
} from '@ddnn/contracts';
import { liveOutcomeFromEvents } from '@ddnn/policies';
import { type ApiProcess, cliMain, createTestDatabase, e2eModelDir, repoRoot, startApi, tempDir, type TestDatabase, waitFor } from '@ddnn/testing';


const TOKEN = 'e2e-analysis-operator-token-0123';
const DATASET = 'synthetic-multicam-seed1';
const SAMPLES = 80;


const linkKey = (l: LinkTraffic) => `${l.from}>${l.to}>${l.kind}`;
const usedLinks = (ls: LinkTraffic[]) => ls.filter((l) => l.messages > 0).sort((a, b) => linkKey(a).localeCompare(linkKey(b)));

describe('replay-based analysis through the API and the CLI (real Postgres, built API, simulated devices)', () => {
  let db: TestDatabase;
  let work: string;
  let api: ApiProcess | undefined;
  const headers = { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${api!.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [cliMain, ...args, '--server', api!.url, '--token', TOKEN], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20 });
  const lastLine = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

  const runSession = async (spec: CreateSessionRequest): Promise<string> => {
    const { id } = await call<{ id: string }>('POST', '/api/sessions', spec);
    await waitFor(
      `session ${id} to complete`,
      async () => {
        const v = await call<SessionView>('GET', `/api/sessions/${id}`);
        if (v.status === 'failed' || v.status === 'stopped') throw new Error(`session ended ${v.status}: ${v.error}`);
        return v.status === 'completed' ? v : undefined;
      },
      300_000,
    );
    return id;
  };
  const sessionEvents = async (id: string): Promise<StoredEvent[]> => {
    const events: StoredEvent[] = [];
    for (let after: string | undefined; ; ) {
      const page = await call<SessionEventsPage>('GET', `/api/sessions/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
      events.push(...page.events);
      after = page.checkpoint ?? undefined;
      if (!page.hasMore) break;
    }
    return events;
  };

  let research = '';
  /** Live production sessions on the same samples, by threshold: 0.5 (the issue's check) and 0.9 (many local exits). */
  const production = new Map<number, string>();

  beforeAll(async () => {
    db = await createTestDatabase();
    work = tempDir('ddnn-e2e-analysis-');
    const data = path.join(work, 'data');
    execFileSync(process.execPath, [cliMain, 'dataset', 'synth', '--out', path.join(data, 'datasets', DATASET)], { cwd: repoRoot, stdio: 'ignore' });
    const model = e2eModelDir();
    api = await startApi({
      DATABASE_URL: db.url,
      DDNN_DATA_DIR: data,
      DDNN_DEFAULT_MODEL_DIR: model,
      DDNN_ADMIN_TOKEN: TOKEN,
      DDNN_DEMO: 'false',
      DDNN_SESSION_POLL_MS: '200',
    });
    const sim = await call<SimulationView>('POST', '/api/simulations', { devices: 6 });
    const base: Omit<CreateSessionRequest, 'policy' | 'mode'> = {
      modelId: 'default',
      dataset: DATASET,
      split: 'test',
      limit: SAMPLES,
      topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view! })) },
      deadlineMs: 5000,
    };
    research = await runSession({ ...base, mode: 'research', policy: { kind: 'entropy', thresholds: { local: 0.8 } } });
    for (const local of [0.5, 0.9]) {
      production.set(local, await runSession({ ...base, mode: 'production', policy: { kind: 'entropy', thresholds: { local } } }));
    }
  }, 900_000);

  afterAll(async () => {
    await api?.stop('SIGTERM');
    await db?.drop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it.each([0.5, 0.9])("compare's counterfactual for T=%s on the T=0.8 research session equals the live production session at that threshold exactly", async (T) => {
    const live = liveOutcomeFromEvents(await sessionEvents(production.get(T)!));
    expect(live.samples).toBe(SAMPLES);
    const { rows } = await call<CompareResponse>('POST', '/api/analysis/compare', {
      sessionIds: [research, production.get(T)],
      policies: [{ kind: 'entropy', thresholds: { local: T } }, { kind: 'always-cloud' }, { kind: 'raw-offload' }, { kind: 'always-local' }],
    });
    expect(rows.map((r) => [r.sessionId, r.policy.kind])).toEqual([
      [research, 'entropy'], [research, 'always-cloud'], [research, 'raw-offload'], [research, 'always-local'],
      [production.get(T), 'entropy'], [production.get(T), 'always-cloud'], [production.get(T), 'raw-offload'], [production.get(T), 'always-local'],
    ]);
    const cf = rows[0] as PolicyEvaluation;
    expect(cf.evaluable).toBe(true);
    expect(cf.samples).toBe(live.samples);
    expect(cf.accuracy).toBe(live.accuracy);
    expect(cf.exits).toEqual(live.exits);
    expect(cf.localExitRate).toBe(live.localExitRate);
    expect(cf.bytesPerSample).toBe(live.bytesPerSample);
    expect(cf.bytesByKind).toEqual(live.bytesByKind);
    expect(usedLinks(cf.links)).toEqual(usedLinks(live.links));
    // The production session's own policy is evaluable on it and gives what it did live.
    const own = rows[4] as PolicyEvaluation;
    expect([own.evaluable, own.accuracy, own.exits]).toEqual([true, live.accuracy, live.exits]);
    // The research session can answer every policy; the production one cannot evaluate what it never computed.
    expect(rows.slice(0, 4).every((r) => r.evaluable)).toBe(true);
    expect(rows.slice(0, 4).some((r) => r.dominated === false)).toBe(true);
    if (T === 0.9) {
      expect(live.localExitRate).toBeGreaterThan(0);
      expect(rows.slice(4).filter((r) => !r.evaluable).map((r) => r.policy.kind)).toEqual(['always-cloud', 'raw-offload']);
    }
    process.stdout.write(
      `counterfactual T=${T} on research T=0.8 == live production T=${T}: accuracy ${cf.accuracy}, ` +
        `exits ${cf.exits.map((e) => `${e.tier} ${e.exited}`).join(', ')}, ${cf.bytesPerSample} B/sample\n`,
    );
  });

  it('sweep gives the threshold curve; the production session marks the points it cannot evaluate; bad queries are 400', async () => {
    const curve = await call<SweepResult>('GET', `/api/analysis/sweep?sessionId=${research}&policy=entropy&points=11`);
    expect(curve.points).toHaveLength(11);
    expect(curve.points.every((p) => p.evaluable)).toBe(true);
    for (let i = 1; i < 11; i++) expect(curve.points[i].localExitRate).toBeGreaterThanOrEqual(curve.points[i - 1].localExitRate);
    expect(curve.points[0].localExitRate).toBe(0);
    expect(curve.points[10].threshold).toBe(1);
    const half = curve.points[5];
    const { rows } = await call<CompareResponse>('POST', '/api/analysis/compare', { sessionIds: [research], policies: [{ kind: 'entropy', thresholds: { local: 0.5 } }] });
    expect(half.accuracy).toBe((rows[0] as PolicyEvaluation).accuracy);
    expect(half.bytesPerSample).toBeCloseTo((rows[0] as PolicyEvaluation).bytesPerSample, 9);

    const json = encodeURIComponent(JSON.stringify({ kind: 'confidence', thresholds: { local: 0.9 } }));
    const prod = await call<SweepResult>('GET', `/api/analysis/sweep?sessionId=${production.get(0.9)}&policy=${json}&points=5`);
    expect(prod.statistic).toBe('confidence');
    expect(prod.points.some((p) => !p.evaluable)).toBe(true);

    const status = async (url: string, init: RequestInit = {}) => (await fetch(`${api!.url}${url}`, { headers, ...init })).status;
    expect(await status(`/api/analysis/sweep?sessionId=${research}&policy=bogus`)).toBe(400);
    expect(await status(`/api/analysis/sweep?sessionId=${research}&policy=entropy&points=1`)).toBe(400);
    expect(await status(`/api/analysis/sweep?sessionId=no-such-session&policy=entropy`)).toBe(404);
    expect(await status('/api/analysis/compare', { method: 'POST', body: JSON.stringify({ sessionIds: [research], policies: [{ kind: 'nope' }] }) })).toBe(400);
    expect(await status(`/api/analysis/sweep?sessionId=${research}&policy=entropy`, { headers: {} })).toBe(401);
  });

  it('the CLI analyzes, exports and reports over REST, and names bad flags', async () => {
    const policies = path.join(work, 'policies.json');
    fs.writeFileSync(policies, JSON.stringify([{ kind: 'entropy', thresholds: { local: 0.5 } }, { kind: 'budget', statistic: 'entropy', minLocalExitRate: 0.5 }]));
    const analyzed = cli(['analyze', '--session', research, '--policies', policies, '--json']);
    expect({ status: analyzed.status, stderr: analyzed.stderr }).toEqual({ status: 0, stderr: '' });
    const out = lastLine(analyzed.stdout) as CompareResponse;
    expect(out.rows).toHaveLength(2);
    expect(out.rows[1].evaluable && out.rows[1].localExitRate).toBeGreaterThanOrEqual(0.5);
    // A window of the run's samples (what a stream, which has no end, needs): the rows are over those samples only.
    const windowed = cli(['analyze', '--session', research, '--window', `${research}:0-9`, '--policies', policies, '--json']);
    expect({ status: windowed.status, stderr: windowed.stderr }).toEqual({ status: 0, stderr: '' });
    for (const r of (lastLine(windowed.stdout) as CompareResponse).rows) expect(r.evaluable && r.samples + r.unanswered).toBe(10);
    expect(cli(['analyze', '--session', research, '--window', `${research}:9-3`, '--policies', policies]).stderr).toMatch(/--window/);

    const csv = path.join(work, 'samples.csv');
    const exported = cli(['export', '--session', research, '--format', 'csv', '--out', csv]);
    expect({ status: exported.status, stderr: exported.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('wrote') });
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0].split(',').slice(0, 5)).toEqual(['sample_index', 'sample_id', 'label', 'exit_tier', 'prediction']);
    expect(lines).toHaveLength(SAMPLES + 1);

    const report = path.join(work, 'report');
    const reported = cli(['report', 'session', research, '--out', report, '--points', '21']);
    expect({ status: reported.status, stderr: reported.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('wrote') });
    process.stdout.write(`report session:\n${reported.stderr}`);
    const md = fs.readFileSync(path.join(report, 'README.md'), 'utf8');
    expect(md).toContain('| policy | accuracy | local exit | cloud exit |');
    for (const svg of ['threshold-accuracy.svg', 'threshold-local-exit.svg', 'accuracy-vs-bytes.svg']) {
      expect(md).toContain(`](${svg})`);
      expect(fs.readFileSync(path.join(report, svg), 'utf8')).toMatch(/^<svg[^]*<\/svg>\n$/);
    }

    const badFormat = cli(['export', '--session', research, '--format', 'xlsx', '--out', csv]);
    expect(badFormat.status).not.toBe(0);
    expect(badFormat.stderr).toContain('--format must be csv, got "xlsx"');
    const missing = cli(['analyze', '--session', research, '--policies', path.join(work, 'nope.json')]);
    expect(missing.stderr).toMatch(/--policies: cannot read .*nope\.json: ENOENT/);
    const unknown = cli(['export', '--session', 'no-such-session', '--out', csv]);
    expect(unknown.stderr).toContain('(404): no events for run no-such-session');
  });
});
