import fs from 'node:fs';
import path from 'node:path';
import type { CreateSessionRequest, StoredEvent } from '@ddnn/contracts';
import { writeSynthDataset } from '@ddnn/datasets';
import {
  type ApiProcess,
  bootPlatform,
  operatorClient,
  type Platform,
  readSessionEvents,
  type RunningProcess,
  startAgent,
  waitFor,
  waitForDevices,
  waitForSessionCompleted,
  writeUntrainedCheckpoint,
  sectionsIn,
} from '@ddnn/testing';

const TOKEN = 'e2e-operator-token-0123456789';
const op = operatorClient(TOKEN);
const DATASET = 'synth';
/**
 * cam-0 and cam-1 get fresh frames from a camera writer; cam-2's folder holds one frame from an hour ago; cam-3 gets
 * fresh frames too, beside one file touched an hour ahead (it was the newest, sent at every capture and refused by
 * the server as stale, while the device showed no problem).
 */
const LIVE_VIEWS = [0, 1];
const STALE_VIEW = 2;
const AHEAD_VIEW = 3;
const FED_VIEWS = [...LIVE_VIEWS, AHEAD_VIEW];
const ALL_VIEWS = [...FED_VIEWS, STALE_VIEW];

describe('device agents on folder sources in a session (real API, real agents, real frame files)', () => {
  let platform: Platform;
  let work: string;
  let api: ApiProcess | undefined;
  const agents: RunningProcess[] = [];
  let camera: NodeJS.Timeout | undefined;
  const call = <T>(method: string, route: string, body?: unknown) => op.call<T>(api!, method, route, body);
  const frames = (view: number) => path.join(work, 'frames', `cam-${view}`);

  beforeAll(async () => {
    platform = await bootPlatform({ name: 'sources', token: TOKEN, dataset: false });
    work = platform.work;
    await writeUntrainedCheckpoint(path.join(work, 'model'));
    await writeSynthDataset(path.join(platform.dataDir, 'datasets', DATASET), { samples: 150, views: 6, seed: 11 });
    api = await platform.start({ DDNN_DEFAULT_MODEL_DIR: path.join(work, 'model') });
  }, 300_000);

  afterAll(async () => {
    clearInterval(camera);
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await api?.stop('SIGTERM');
    await platform?.teardown();
  });

  it('live agents log their capture times; a stale camera is logged as skipped misses, not as reused frames; a file dated ahead is ignored; each reports its problem', async () => {
    // A camera process: writes a frame every 100 ms (to a hidden temporary file, then renamed) and keeps the last 3.
    const samples = path.join(work, 'data', 'datasets', DATASET, 'samples');
    // Frames of samples that have both live views (a synthetic sample may lack a view).
    const ids = fs.readdirSync(samples).sort().filter((id) => FED_VIEWS.every((v) => fs.existsSync(path.join(samples, id, `${v}.png`))));
    const staleFrom = fs.readdirSync(samples).sort().find((id) => fs.existsSync(path.join(samples, id, `${STALE_VIEW}.png`)))!;
    let n = 0;
    for (const v of ALL_VIEWS) fs.mkdirSync(frames(v), { recursive: true });
    const writeFrames = () => {
      n++;
      for (const v of FED_VIEWS) {
        const tmp = path.join(frames(v), '.incoming.png');
        fs.copyFileSync(path.join(samples, ids[n % ids.length], `${v}.png`), tmp);
        fs.renameSync(tmp, path.join(frames(v), `frame-${String(n).padStart(6, '0')}.png`));
        const old = path.join(frames(v), `frame-${String(n - 3).padStart(6, '0')}.png`);
        if (fs.existsSync(old)) fs.rmSync(old);
      }
    };
    writeFrames();
    camera = setInterval(writeFrames, 100);
    const stale = path.join(frames(STALE_VIEW), 'frame-000001.png');
    fs.copyFileSync(path.join(samples, staleFrom, `${STALE_VIEW}.png`), stale);
    const hourAgo = (Date.now() - 3_600_000) / 1000;
    fs.utimesSync(stale, hourAgo, hourAgo);
    const ahead = path.join(frames(AHEAD_VIEW), 'future.png');
    fs.copyFileSync(path.join(samples, ids[0], `${AHEAD_VIEW}.png`), ahead);
    const hourAhead = (Date.now() + 3_600_000) / 1000;
    fs.utimesSync(ahead, hourAhead, hourAhead);

    const { provisioningKey } = await call<{ provisioningKey: string }>('POST', '/api/profiles', { name: 'e2e-folder-cameras' });
    for (const view of ALL_VIEWS) {
      const args = ['--source', 'folder', '--source-path', frames(view), '--max-frame-age-ms', '1000'];
      agents.push(startAgent({ server: api!.url, profileKey: provisioningKey, name: `cam-${view}`, view, stateDir: work, args }));
    }
    const devices = await waitForDevices(op, api!, ALL_VIEWS.length, 'name=cam-', 90_000);
    const byView = new Map(devices.map((d) => [d.view as number, d.id]));
    const spec: CreateSessionRequest = {
      modelId: 'default',
      dataset: DATASET,
      split: 'test',
      topology: { devices: ALL_VIEWS.map((view) => ({ deviceId: byView.get(view)!, view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      mode: 'production',
      deadlineMs: 2000,
      rate: 4,
    };
    const startedAt = Date.now();
    const { id } = await call<{ id: string }>('POST', '/api/sessions', spec);
    const done = await waitForSessionCompleted(op, api!, id, 180_000);
    const endedAt = Date.now();
    const total = done.samplesDone;
    expect(total).toBeGreaterThanOrEqual(20);

    // Reads show events up to the log's safe checkpoint, which a transaction elsewhere on the server can hold back
    // for a moment: read until the session's last event is there.
    const events = await waitFor('the whole session in the log', async () => {
      const all = await readSessionEvents(op, api!, id);
      return all.some((e) => e.type === 'SessionCompleted') ? all : undefined;
    });
    const of = <T extends StoredEvent['type']>(t: T) => events.filter((e): e is Extract<StoredEvent, { type: T }> => e.type === t);
    expect(of('SampleStarted')).toHaveLength(total);

    // Every sample of a live camera (and of the one beside a file dated ahead, which it ignores): scores from a frame captured while the session ran, at most 1 s before the
    // device answered (the agent's maximum frame age), and capture times never going back.
    for (const view of FED_VIEWS) {
      const deviceId = byView.get(view)!;
      const scored = sectionsIn(events).filter((s) => s.tier === 'device' && s.node === deviceId);
      const missed = of('DeviceMissed').filter((e) => e.data.deviceId === deviceId);
      expect(scored.length + missed.length).toBe(total);
      // A loaded machine may make an agent drop a capture (still busy with the previous one, or its newest frame
      // aged past 1 s): those are skipped misses, never timeouts or reused frames; most samples are answered.
      for (const m of missed) expect(m.data).toMatchObject({ reason: 'skipped', detail: expect.stringMatching(/^(busy: the previous capture|newest frame frame-\d+\.png is \d+ ms old)/) });
      expect(scored.length).toBeGreaterThanOrEqual(total / 2);
      const times = scored.sort((a, b) => a.sampleIndex - b.sampleIndex).map((s) => s.capturedAt as number);
      for (const t of times) {
        expect(Number.isInteger(t)).toBe(true);
        expect(t).toBeGreaterThanOrEqual(startedAt - 1000);
        expect(t).toBeLessThanOrEqual(endedAt);
      }
      for (const s of scored) expect((s.capturedAt as number) <= Date.parse(s.createdAt)).toBe(true);
      // Samples start 250 ms apart and frames arrive every 100 ms: the camera's frames move on with the session.
      expect(new Set(times).size).toBeGreaterThan(total / 2);
    }

    // The stale camera: never scored, every sample a DeviceMissed with reason skipped and the frame's age.
    const staleId = byView.get(STALE_VIEW)!;
    expect(sectionsIn(events).filter((s) => s.node === staleId)).toHaveLength(0);
    const skipped = of('DeviceMissed').filter((e) => e.data.deviceId === staleId);
    expect(skipped).toHaveLength(total);
    for (const m of skipped) {
      expect(m.data).toMatchObject({ reason: 'skipped', stage: 'scores', view: STALE_VIEW });
      expect(m.data.detail).toMatch(/^newest frame frame-000001\.png is \d+ ms old \(max 1000 ms\)$/);
    }
    const agentLog = agents[ALL_VIEWS.indexOf(STALE_VIEW)].output();
    expect(agentLog).toMatch(/capture skipped: newest frame frame-000001\.png is \d+ ms old/);

    // The problems each agent reports in its heartbeat, as the Devices page shows them: the stale camera's every
    // capture skipped, the other's ignored file (logged once, at warn).
    // The problem seen last, once it reads as expected (or the last one seen, which the expectation then shows).
    const problemOf = async (view: number, expected: RegExp) => {
      let last: string | null = null;
      const read = async () => {
        last = (await call<{ problem: string | null }>('GET', `/api/devices/${byView.get(view)}`)).problem;
        return last !== null && expected.test(last);
      };
      await waitFor(`cam-${view}'s problem to match ${expected}`, read).catch(() => undefined);
      return last;
    };
    const staleProblem = /^cannot serve a sample \(source folder\): every capture since \d{4}-\d\d-\d\dT[\d:.]+Z skipped: newest frame frame-000001\.png is \d+ ms old \(max 1000 ms\)$/;
    expect(await problemOf(STALE_VIEW, staleProblem)).toMatch(staleProblem);
    const aheadProblem = /^source folder: ignoring a frame dated ahead of this device's clock in \S+ \(future\.png is \d+ ms ahead of this device's clock \(at most 2000 ms\)\)/;
    expect(await problemOf(AHEAD_VIEW, aheadProblem)).toMatch(aheadProblem);
    // Logged at warn when it began, and again only if the problem changed in between (another cause came and went).
    const reports = agents[ALL_VIEWS.indexOf(AHEAD_VIEW)]
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"reporting a problem: '))
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(reports.filter((r) => r.msg.includes('future.png')).length).toBeGreaterThanOrEqual(1);
    for (const r of reports) expect(r.level).toBe('warn');
    reports.forEach((r, i) => i > 0 && expect(r.msg).not.toBe(reports[i - 1].msg));
  }, 400_000);
});
