import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { answersSample, type CreateStreamRequest, type DeviceList, type LabelStreamResponse, type SessionEventsPage, type StoredEvent, type StreamView } from '@ddnn/contracts';
import { writeSynthDataset } from '@ddnn/datasets';
import { createTestDatabase, deviceMain, startApi, startNode, tempDir, waitFor, writeUntrainedCheckpoint, type ApiProcess, type RunningProcess, type TestDatabase, sectionsIn } from '@ddnn/testing';

const TOKEN = 'e2e-operator-token-streams-0123456789';
const FOLDER_VIEWS = [0, 1, 2];
const FFMPEG_VIEWS = [3, 4, 5];
const SAMPLES = 200;
const RATE = 5;
const TOLERANCE_MS = 1500;
/** One ffmpeg camera's clock runs this far ahead of the server's (no NTP): far beyond the tolerance. */
const SKEWED_VIEW = 5;
const SKEW_MS = 5000;

/**
 * Six real device agents (three on `folder` sources a camera writer feeds, three on `ffmpeg` decoding a clip made
 * here with lavfi) serve a production stream of at least 200 samples on a real API and PostgreSQL; the log is read
 * back and checked sample by sample, and labels posted late change accuracy exactly as a recount from the log says.
 * One camera's clock is 5 s ahead: the server reads the offset from its replies and still matches its captures.
 */
describe('a stream on six live agents (folder and ffmpeg sources)', () => {
  let db: TestDatabase;
  let work: string;
  let api: ApiProcess | undefined;
  const agents: RunningProcess[] = [];
  let camera: NodeJS.Timeout | undefined;
  const headers = { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const send = async (method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> => {
    const once = () => fetch(`${api!.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    // A keep-alive connection the server closes as its idle timeout ends can fail the request reusing it: every
    // request here may be sent again (label posts are idempotent), but only to a server still running.
    const res = await once().catch((e: Error) => {
      if (api!.child.exitCode !== null) throw new Error(`${e.message}: the API exited (${api!.child.exitCode})\n${api!.output().slice(-3000)}`);
      return once();
    });
    return { status: res.status, text: await res.text() };
  };
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const r = await send(method, url, body);
    if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
    return JSON.parse(r.text) as T;
  };
  const frames = (view: number) => path.join(work, 'frames', `cam-${view}`);

  beforeAll(async () => {
    db = await createTestDatabase();
    work = tempDir('ddnn-e2e-streams-');
    await writeUntrainedCheckpoint(path.join(work, 'model'));
    await writeSynthDataset(path.join(work, 'data', 'datasets', 'synth'), { samples: 60, views: 6, seed: 5 });
    api = await startApi({
      DATABASE_URL: db.url,
      DDNN_DATA_DIR: path.join(work, 'data'),
      DDNN_DEFAULT_MODEL_DIR: path.join(work, 'model'),
      DDNN_ADMIN_TOKEN: TOKEN,
      DDNN_SIMULATED_DEVICES: '0',
      DDNN_SESSION_POLL_MS: '200',
      DDNN_CAPTURE_TOLERANCE_MS: String(TOLERANCE_MS),
    });
  }, 300_000);

  afterAll(async () => {
    clearInterval(camera);
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await api?.stop('SIGTERM');
    await db?.drop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('decides every sample once, with capture times matched to their trigger; late labels change accuracy as a recount says', async () => {
    // The folder cameras: a frame every 100 ms per camera (written aside, then renamed in), the last 3 kept.
    const samplesDir = path.join(work, 'data', 'datasets', 'synth', 'samples');
    const ids = fs.readdirSync(samplesDir).sort().filter((id) => FOLDER_VIEWS.every((v) => fs.existsSync(path.join(samplesDir, id, `${v}.png`))));
    expect(ids.length).toBeGreaterThan(5);
    for (const v of FOLDER_VIEWS) fs.mkdirSync(frames(v), { recursive: true });
    let n = 0;
    const writeFrames = () => {
      n++;
      for (const v of FOLDER_VIEWS) {
        const tmp = path.join(frames(v), '.incoming.png');
        fs.copyFileSync(path.join(samplesDir, ids[n % ids.length], `${v}.png`), tmp);
        fs.renameSync(tmp, path.join(frames(v), `frame-${String(n).padStart(6, '0')}.png`));
        const old = path.join(frames(v), `frame-${String(n - 3).padStart(6, '0')}.png`);
        if (fs.existsSync(old)) fs.rmSync(old);
      }
    };
    writeFrames();
    camera = setInterval(writeFrames, 100);
    // The ffmpeg cameras: a 4 s test pattern clip, which the source plays at its own speed and loops.
    const clip = path.join(work, 'clip.mp4');
    execFileSync('/usr/bin/ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '4', '-c:v', 'mpeg4', clip]);

    const { provisioningKey } = await call<{ provisioningKey: string }>('POST', '/api/profiles', { name: 'e2e-stream-cameras' });
    const common = (view: number) => ['--server', api!.url, '--profile-key', provisioningKey, '--name', `cam-${view}`, '--view', String(view), '--state', path.join(work, `cam-${view}.json`), '--heartbeat-ms', '1000'];
    for (const view of FOLDER_VIEWS) agents.push(startNode(deviceMain, [...common(view), '--source', 'folder', '--source-path', frames(view), '--max-frame-age-ms', '1000'], {}));
    // The skewed camera's process sees a clock SKEW_MS ahead (Date.now, which its source stamps frames with).
    const skew = path.join(work, 'clock-ahead.cjs');
    fs.writeFileSync(skew, `const now = Date.now; Date.now = () => now() + ${SKEW_MS};\n`);
    for (const view of FFMPEG_VIEWS) {
      const env = view === SKEWED_VIEW ? { NODE_OPTIONS: `--require ${skew}` } : {};
      agents.push(startNode(deviceMain, [...common(view), '--source', 'ffmpeg', '--source-path', clip, '--fps', '10', '--max-frame-age-ms', '1000'], env));
    }
    const devices = await waitFor(
      'six connected agents',
      async () => {
        const list = await call<DeviceList>('GET', '/api/devices?limit=50&active=true&name=cam-');
        return list.items.filter((d) => d.connectivity.active).length === 6 ? list.items : undefined;
      },
      120_000,
      250,
    );
    const byView = new Map(devices.map((d) => [d.view as number, d.id]));
    const views = [...FOLDER_VIEWS, ...FFMPEG_VIEWS];

    // Refused before anything runs: no such model, a rate of 0, an unregistered device.
    const base: CreateStreamRequest = {
      modelId: 'default',
      topology: { devices: views.map((view) => ({ deviceId: byView.get(view)!, view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      rate: RATE,
      deadlineMs: 3000,
      name: 'street',
      tags: ['e2e'],
    };
    expect((await send('POST', '/api/streams', { ...base, modelId: 'nope' })).status).toBe(400);
    expect((await send('POST', '/api/streams', { ...base, rate: 0 })).status).toBe(400);
    expect((await send('POST', '/api/streams', { ...base, topology: { devices: [{ deviceId: 'ghost', view: 0 }] } })).status).toBe(400);

    const { id } = await call<{ id: string }>('POST', '/api/streams', base);
    // Streams are not sessions: the sessions API does not list or serve them.
    expect((await send('GET', `/api/sessions/${id}`)).status).toBe(404);
    expect((await call<{ total: number }>('GET', '/api/sessions')).total).toBe(0);

    // A label posted for a sample the stream has not reached yet (it is still deploying): pending, counted once
    // the sample is decided.
    const aheadIndex = 30;
    const pending = await call<LabelStreamResponse>('POST', `/api/streams/${id}/labels`, [{ sampleIndex: aheadIndex, label: 1 }]);
    expect(pending.results).toEqual([{ sampleIndex: aheadIndex, label: 1, status: 'pending' }]);
    expect(pending.labelled).toBe(0);

    const running = await waitFor(`${SAMPLES} decided samples`, async () => {
      const v = await call<StreamView>('GET', `/api/streams/${id}`);
      if (v.status === 'failed') throw new Error(`stream failed: ${v.error}`);
      return v.summary && v.summary.samplesDecided >= SAMPLES ? v : undefined;
    }, 300_000, 500);
    expect(running).toMatchObject({ kind: 'stream', status: 'running', name: 'street', tags: ['e2e'], rate: RATE, captureToleranceMs: TOLERANCE_MS, owner: expect.any(String) });
    expect((await call<StreamView>('POST', `/api/streams/${id}/stop`)).id).toBe(id);
    const stopped = await waitFor('the stream to stop', async () => {
      const v = await call<StreamView>('GET', `/api/streams/${id}`);
      return v.status === 'stopped' ? v : undefined;
    }, 60_000, 250);
    expect(stopped.finishedAt).not.toBeNull();
    const listed = await call<{ items: StreamView[]; total: number }>('GET', '/api/streams?status=stopped');
    expect(listed.items.map((s) => s.id)).toEqual([id]);

    const readLog = () =>
      waitFor('the whole stream in the log', async () => {
        const all: StoredEvent[] = [];
        for (let after: string | undefined; ; ) {
          const page = await call<SessionEventsPage>('GET', `/api/streams/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
          all.push(...page.events);
          after = page.checkpoint ?? undefined;
          if (!page.hasMore) break;
        }
        return all.some((e) => e.type === 'SessionCompleted') ? all : undefined;
      });
    let events = await readLog();
    // The export of a stream is its events, streamed (its samples have no end: refused with the reason).
    const csv = await send('GET', `/api/sessions/${id}/export?what=events`);
    expect(csv.status).toBe(200);
    expect(csv.text.trimEnd().split('\n')).toHaveLength(events.length + 1);
    expect(await send('GET', `/api/sessions/${id}/export`)).toMatchObject({ status: 400, text: expect.stringMatching(/is a stream: export its events/) });
    const of = <T extends StoredEvent['type']>(t: T, list = events) => list.filter((e): e is Extract<StoredEvent, { type: T }> => e.type === t);
    // The early label may precede StreamStarted; StreamStarted precedes every sample.
    expect(events.filter((e) => e.type !== 'SampleLabelled')[0].type).toBe('StreamStarted');
    expect(events.every((e) => e.streamId === `stream-${id}`)).toBe(true);
    const started = of('SampleStarted');
    const total = started.length;
    expect(total).toBeGreaterThanOrEqual(SAMPLES);
    // Indices 0..n-1, each once; no label; a trigger time, triggers paced at the rate.
    expect(started.map((e) => e.data.sampleIndex).sort((a, b) => a - b)).toEqual(started.map((_, i) => i));
    const triggerOf = new Map(started.map((e) => [e.data.sampleIndex, e.data.triggeredAt as number]));
    for (const e of started) {
      expect(e.data.label).toBeNull();
      expect(Number.isInteger(e.data.triggeredAt)).toBe(true);
    }
    const triggers = [...triggerOf.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
    for (let i = 1; i < triggers.length; i++) expect(triggers[i]).toBeGreaterThanOrEqual(triggers[i - 1]);
    expect((triggers[triggers.length - 1] - triggers[0]) / (triggers.length - 1)).toBeGreaterThanOrEqual(1000 / RATE - 5);

    // Every sample: exactly one outcome, an answering exit or (nothing reached an exit that could answer it: its
    // cameras all skipped or missed it, or none delivered features past an unsure local exit) a SampleUnanswered.
    const answering = new Map<number, number>();
    for (const d of of('ExitDecided')) {
      if (!answersSample(d.data)) continue;
      expect(answering.has(d.data.sampleIndex)).toBe(false);
      answering.set(d.data.sampleIndex, d.data.prediction);
      expect(d.data.label).toBeNull();
    }
    const unanswered = new Set(of('SampleUnanswered').map((e) => e.data.sampleIndex));
    for (const i of unanswered) expect(answering.has(i)).toBe(false);
    expect(answering.size + unanswered.size).toBe(total);
    // On a loaded machine a few at most (a first capture skipped by every camera, say).
    expect(unanswered.size).toBeLessThan(total / 10);

    // Every device, every sample: scored from a capture within the tolerance of the trigger (on the server's clock,
    // the skewed camera's too), or a logged miss.
    for (const view of views) {
      const deviceId = byView.get(view)!;
      const scored = sectionsIn(events).filter((s) => s.tier === 'device' && s.node === deviceId);
      const missed = of('DeviceMissed').filter((e) => e.data.deviceId === deviceId && e.data.stage === 'scores');
      expect(scored.length + missed.length).toBe(total);
      const reasons = missed.map((m) => `${m.data.reason}: ${m.data.detail?.replace(/\d+/g, '#')}`);
      const tally = Object.entries(Object.fromEntries(reasons.map((r) => [r, reasons.filter((x) => x === r).length])));
      // A device slower than the rate drops triggers while busy (never queues them): on a loaded machine that is
      // most of them; it still answers a share, each from a fresh capture.
      expect({ view, scored: scored.length, tally: scored.length >= total / 10 ? 'ok' : tally }).toEqual({ view, scored: scored.length, tally: 'ok' });
      for (const s of scored) {
        expect(Number.isInteger(s.capturedAt)).toBe(true);
        expect(Math.abs((s.capturedAt as number) - (triggerOf.get(s.sampleIndex) as number))).toBeLessThanOrEqual(TOLERANCE_MS);
      }
      // A loaded machine makes a device drop a capture (busy, frame too old or gone, stale): skipped, with the reason.
      for (const m of missed) {
        if (m.data.reason !== 'skipped') expect(m.data.reason).toBe('timeout');
        else expect(m.data.detail).toMatch(/\S/);
      }
    }

    // Labels, posted late: validated first, nothing logged on a bad request.
    expect((await send('POST', `/api/streams/${id}/labels`, { sampleIndex: 0, label: 0 })).status).toBe(400);
    expect((await send('POST', `/api/streams/${id}/labels`, [])).status).toBe(400);
    expect((await send('POST', `/api/streams/${id}/labels`, [{ sampleIndex: 0, label: 99 }])).status).toBe(400);
    expect((await send('POST', `/api/streams/${id}/labels`, [{ sampleIndex: 0, label: 'no-such-class' }])).status).toBe(400);
    expect((await send('POST', `/api/streams/${id}/labels`, [{ sampleIndex: -1, label: 0 }])).status).toBe(400);
    expect((await send('POST', `/api/streams/${id}/labels`, [{ sampleIndex: 0, label: 0, extra: 1 }])).status).toBe(400);
    expect((await send('POST', `/api/streams/${id}/labels`, [{ sampleIndex: 0, label: 0 }, { sampleIndex: 0, label: 1 }])).status).toBe(400);
    expect((await send('POST', `/api/streams/${id}/labels`, Array.from({ length: 1001 }, (_, i) => ({ sampleIndex: i, label: 0 })))).status).toBe(400);
    expect((await send('POST', `/api/streams/${id}/labels`, [{ sampleIndex: total + 10_000, label: 0 }])).status).toBe(422);
    expect(of('SampleLabelled', await readLog())).toHaveLength(1);

    const recount = (log: StoredEvent[]) => {
      const labels = new Map(of('SampleLabelled', log).map((e) => [e.data.sampleIndex, e.data.label]));
      let labelled = 0;
      let correct = 0;
      for (const [i, l] of labels) {
        if (!answering.has(i)) continue;
        labelled++;
        if (answering.get(i) === l) correct++;
      }
      return { labelled, correct, accuracy: labelled ? correct / labelled : null };
    };
    const summaryOf = async () => {
      const s = (await call<StreamView>('GET', `/api/streams/${id}`)).summary!;
      return { labelled: s.labelled, correct: s.correct, accuracy: s.accuracy };
    };
    // The early label counted once its sample was decided (the stream ran well past it); dropped had it no answer.
    const early = answering.has(aheadIndex) ? 1 : 0;
    expect(early + (unanswered.has(aheadIndex) ? 1 : 0)).toBe(1);
    expect(await summaryOf()).toEqual(recount(events));
    expect((await summaryOf()).labelled).toBe(early);

    // Two batches: the first 30 samples labelled with their prediction (right), the next 20 with another class.
    const answered = (i: number) => i !== aheadIndex && answering.has(i);
    const right = [...Array(30).keys()].filter(answered).map((i) => ({ sampleIndex: i, label: answering.get(i) as number }));
    const wrong = [...Array(20).keys()].map((k) => 30 + k).filter(answered).map((i) => ({ sampleIndex: i, label: ((answering.get(i) as number) + 1) % 3 }));
    const first = await call<LabelStreamResponse>('POST', `/api/streams/${id}/labels`, right);
    expect(first.results.every((r) => r.status === 'labelled')).toBe(true);
    events = await readLog();
    expect(await summaryOf()).toEqual(recount(events));
    const second = await call<LabelStreamResponse>('POST', `/api/streams/${id}/labels`, wrong);
    events = await readLog();
    const afterLabels = recount(events);
    expect(await summaryOf()).toEqual(afterLabels);
    expect({ labelled: second.labelled, accuracy: second.accuracy }).toEqual({ labelled: afterLabels.labelled, accuracy: afterLabels.accuracy });
    expect(afterLabels.labelled).toBe(early + right.length + wrong.length);
    expect(afterLabels.accuracy).toBeLessThan(1);

    // Posting a label again changes nothing; contradicting one is refused.
    const again = await call<LabelStreamResponse>('POST', `/api/streams/${id}/labels`, right.slice(0, 3));
    expect(again.results.map((r) => r.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect((await send('POST', `/api/streams/${id}/labels`, [{ sampleIndex: right[0].sampleIndex, label: (right[0].label + 1) % 3 }])).status).toBe(409);
    events = await readLog();
    expect(of('SampleLabelled')).toHaveLength(afterLabels.labelled);
    expect(await summaryOf()).toEqual(recount(events));
  }, 900_000);
});
