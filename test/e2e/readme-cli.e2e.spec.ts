import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CreateSessionRequest, SessionView, SimulationView } from '@ddnn/contracts';
import { type ApiProcess, cliMain, createTestDatabase, e2eModelDir, repoRoot, startApi, tempDir, type TestDatabase, waitFor } from '@ddnn/testing';


const TOKEN = 'e2e-readme-operator-token-0123456';

/** The README's `ddnn` examples: each `npm run -s ddnn -- …` line of the section's code block, without its comment. */
function readmeExamples(): string[][] {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The `ddnn` command'));
  const block = section.slice(section.indexOf('```sh') + 5, section.indexOf('```', section.indexOf('```sh') + 5));
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '')
    .map((line) => {
      const prefix = 'npm run -s ddnn -- ';
      if (!line.startsWith(prefix)) throw new Error(`README example is not a ddnn command: ${line}`);
      // The examples use no quoting beyond '' (an empty argument).
      return line.slice(prefix.length).split(/\s+/).map((arg) => (arg === "''" ? '' : arg));
    });
}

describe("the README's ddnn examples, as written, on a fresh data folder (built CLI and API, real Postgres)", () => {
  let db: TestDatabase;
  let work: string;
  let api: ApiProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    work = tempDir('ddnn-e2e-readme-');
    // The examples run from the repository root (npm run's folder); here a fresh folder stands in for it, with the committed models.
    fs.symlinkSync(path.join(repoRoot, 'models'), path.join(work, 'models'));
    api = await startApi({ DATABASE_URL: db.url, DDNN_DATA_DIR: path.join(work, '.data'), DDNN_DEFAULT_MODEL_DIR: e2eModelDir(), DDNN_ADMIN_TOKEN: TOKEN, DDNN_DEMO: 'false', DDNN_SESSION_POLL_MS: '200' });
  }, 300_000);

  afterAll(async () => {
    await api?.stop('SIGTERM');
    await db?.drop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** A recorded session for the examples that take `--session ID`, on the dataset the first example made. */
  async function recordSession(): Promise<string> {
    const headers = { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${api!.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const sim = await call<SimulationView>('POST', '/api/simulations', { devices: 6 });
    const spec: CreateSessionRequest = {
      modelId: 'default',
      dataset: 'mvmc-like',
      split: 'test',
      limit: 30,
      mode: 'research',
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view! })) },
      deadlineMs: 5000,
    };
    const { id } = await call<{ id: string }>('POST', '/api/sessions', spec);
    await waitFor(`session ${id} to complete`, async () => ((await call<SessionView>('GET', `/api/sessions/${id}`)).status === 'completed' ? true : undefined), 300_000);
    return id;
  }

  it('every example runs and exits 0', async () => {
    const examples = readmeExamples();
    expect(examples.length).toBeGreaterThanOrEqual(8);
    let session: string | undefined;
    for (const example of examples) {
      if (example.includes('ID') && session === undefined) session = await recordSession();
      if (example.includes('policies.json')) {
        // The README's policies file: a JSON array of policies (see the paragraph below the examples).
        fs.writeFileSync(path.join(work, 'policies.json'), JSON.stringify([{ kind: 'entropy', thresholds: { local: 0.5 } }, { kind: 'always-cloud' }]));
      }
      const args = example.map((a) => (a === 'ID' ? session! : a));
      const r = spawnSync(process.execPath, [cliMain, ...args], {
        cwd: work,
        encoding: 'utf8',
        timeout: 600_000,
        maxBuffer: 64 << 20,
        env: { ...process.env, DDNN_SERVER: api!.url, DDNN_ADMIN_TOKEN: TOKEN },
      });
      expect({ example: example.join(' '), status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ example: example.join(' '), status: 0, stderr: '' });
    }
    expect(fs.existsSync(path.join(work, 'sheet.png'))).toBe(true);
    expect(fs.existsSync(path.join(work, '.data', 'models', 'mp-cc', 'manifest.json'))).toBe(true);
    expect(fs.readFileSync(path.join(work, 'session.csv'), 'utf8').split('\n').length).toBeGreaterThan(30);
  }, 1_800_000);
});
