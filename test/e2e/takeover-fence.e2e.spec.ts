import { Client } from 'pg';
import type { SessionView, SimulationView, StoredEvent, StreamView } from '@ddnn/contracts';
import { type ApiProcess, answeringExits, bootPlatform, operatorClient, type Platform, readRunEvents, researchSession, waitFor, waitForSessionCompleted } from '@ddnn/testing';

const TOKEN = 'e2e-operator-token-takeover-fence-0123';
const op = operatorClient(TOKEN);
/** Each way: a sample is in flight for twice this at least, so a lock lost mid-stream leaves a dozen in flight. */
const LINK_LATENCY_MS = 300;
const RATE = 40;
/** The e2e dataset's test split: the session's samples. */
const SESSION_SAMPLES = 171;

type Of<T extends StoredEvent['type']> = Extract<StoredEvent, { type: T }>;
const repeated = <T>(keys: T[]) => keys.filter((k, i) => keys.indexOf(k) !== i);
const of = <T extends StoredEvent['type']>(events: StoredEvent[], t: T) => events.filter((e): e is Of<T> => e.type === t);

/** The sample indices logged more than once: started, and decided (answering exits). */
function twice(events: StoredEvent[]): { started: number[]; decided: number[] } {
  return {
    started: [...new Set(repeated(of(events, 'SampleStarted').map((e) => e.data.sampleIndex)))],
    decided: [...new Set(repeated(answeringExits(events).map((e) => e.data.sampleIndex)))],
  };
}

/**
 * A run handed over, once it ended: its whole log as the new owner serves it (read until its SessionCompleted is
 * there), the indices logged twice, and what the old owner said it dropped (the fence refused its late samples)
 * and counted on its GET /metrics.
 */
async function handedOver(kind: 'stream' | 'session', id: string, from: ApiProcess, to: ApiProcess) {
  const events = await waitFor(`the whole ${kind} in the log`, async () => {
    const all = await readRunEvents(op, to, `/api/${kind}s/${id}`);
    return all.some((e) => e.type === 'SessionCompleted') ? all : undefined;
  });
  const said = new RegExp(`${kind} ${id}: (\\d+) sample\\(s\\) dropped: another node owns the run now`).exec(from.output());
  // A stream's StreamGap refused by the fence is an append counted too, said apart from the samples.
  const gaps = new RegExp(`${kind} ${id}: (\\d+) gap event\\(s\\) dropped: another node owns the run now`).exec(from.output());
  const metrics = await (await op.request(from, 'GET', '/metrics')).text();
  const fenced = { logged: Number(said?.[1] ?? 0), gaps: Number(gaps?.[1] ?? 0), counted: Number(/^ddnn_event_appends_fenced_total (\d+)$/m.exec(metrics)?.[1]) };
  const dup = twice(events);
  const line = `${of(events, 'SampleStarted').length} samples logged, ${dup.started.length} indices started twice, ${dup.decided.length} decided twice; dropped ${fenced.logged} fenced sample(s), counted ${fenced.counted}`;
  return { events, dup, fenced, line };
}

/**
 * The owner of a run loses only its lock's connection (the database ended that backend; the node runs on): the
 * other node takes the run over while the old owner's samples in flight are still to be logged. Without a fence
 * those commit after the new owner read what the log holds, and it decides them again (a stream: the indices after
 * the highest logged; a session: the samples not logged yet).
 */
describe('a run whose owner loses its lock connection but keeps running (two nodes, one database)', () => {
  let platform: Platform;
  let admin: Client;

  beforeAll(async () => {
    platform = await bootPlatform({
      name: 'takeover-fence',
      token: TOKEN,
      // No wait for devices: the new owner starts at once (the old owner's simulated devices are not on it), so its
      // first samples overlap the old owner's samples in flight, the race a fence must close.
      env: { DDNN_SESSION_POLL_MS: '200', DDNN_DEVICE_WAIT_MS: '0', DDNN_CAPTURE_TOLERANCE_MS: '10000' },
    });
    admin = new Client({ connectionString: platform.databaseUrl });
    await admin.connect();
  }, 600_000);

  // Each test starts its own two nodes: none of them may take the next test's run.
  afterEach(() => Promise.all(platform.nodes.map((n) => n.stop('SIGKILL'))));

  afterAll(async () => {
    await admin?.end();
    await platform?.teardown();
  });

  /**
   * Ends only the run's lock connection on its owner (the node itself runs on). The other node's polls open
   * connections of the same application name to try the lock: only the backend granted the advisory lock is cut.
   */
  async function cutLock(id: string): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(a.pid))::int AS n FROM pg_stat_activity a
        WHERE a.application_name = $1
          AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)`,
      [`ddnn-session-${id}`],
    );
    expect(rows[0].n).toBe(1);
    return Date.now();
  }

  /** A stream on `owner`'s simulated cameras (links of LINK_LATENCY_MS each way), running there, 60 samples decided. */
  async function streamOn(owner: ApiProcess, name: string): Promise<{ id: string; decided: number }> {
    const sim = await op.call<SimulationView>(owner, 'POST', '/api/simulations', {
      devices: 2,
      source: 'scene',
      scene: { seed: 5 },
      link: { latencyMs: LINK_LATENCY_MS, bandwidthKbps: 100_000 },
    });
    const { id } = await op.call<{ id: string }>(owner, 'POST', '/api/streams', {
      modelId: 'default',
      topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.5 } },
      rate: RATE,
      deadlineMs: 5000,
    });
    expect(await waitFor(`${name} to run the stream`, async () => (await streamView(owner, id)).owner, 60_000)).toBe(name);
    return { id, decided: await samplesDecided(owner, id, 60) };
  }

  const streamView = (node: ApiProcess, id: string) => op.call<StreamView>(node, 'GET', `/api/streams/${id}`);
  /** Samples done: decided, or unanswered (two cameras on the scene: a sample neither saw has no answer). */
  const samplesDone = (v: StreamView) => (v.summary?.samplesDecided ?? 0) + (v.summary?.unanswered ?? 0);
  /** Waits until the stream has `n` samples done; resolves to how many it has then. */
  const samplesDecided = (node: ApiProcess, id: string, n: number) =>
    waitFor(`${n} samples of stream ${id} decided or unanswered`, async () => {
      const got = samplesDone(await streamView(node, id));
      return got >= n ? got : undefined;
    }, 120_000, 100);

  /** The new owner `to` took the stream (it says so): once it decided 40 samples more, it stops it. */
  async function runThenStop(id: string, to: ApiProcess, name: string): Promise<void> {
    await waitFor(`${name} to name itself the owner`, async () => ((await streamView(to, id)).owner === name ? true : undefined), 60_000);
    await samplesDecided(to, id, samplesDone(await streamView(to, id)) + 40);
    await op.call(to, 'POST', `/api/streams/${id}/stop`);
    await waitFor('the stream to stop', async () => ((await streamView(to, id)).status === 'stopped' ? true : undefined), 60_000);
  }

  /** What every handed-over stream must show: each index once, one start and end, no abort, the new owner's error none. */
  async function expectHandedOverOnce(id: string, events: StoredEvent[], dup: { started: number[]; decided: number[] }, to: ApiProcess): Promise<void> {
    expect(dup).toEqual({ started: [], decided: [] });
    expect(repeated(events.map((e) => e.eventId))).toEqual([]);
    expect(of(events, 'StreamStarted')).toHaveLength(1);
    expect(of(events, 'SessionCompleted')).toHaveLength(1);
    expect(of(events, 'SessionAborted')).toHaveLength(0);
    expect((await streamView(to, id)).error).toBeNull();
  }

  it('hands the stream over with no sample index logged twice; the old owner drops its fenced samples, counted, and runs on', async () => {
    const a = await platform.start({ DDNN_NODE_ID: 'node-a' });
    const { id, decided: atCut } = await streamOn(a, 'node-a');
    // Only now the second node: it cannot have taken the stream first.
    const b = await platform.start({ DDNN_NODE_ID: 'node-b' });
    const cutAt = await cutLock(id);

    await waitFor('node B to take the stream', () => b.output().includes(`stream ${id}: running on node-b`), 60_000, 20);
    const takenMs = Date.now() - cutAt;
    await runThenStop(id, b, 'node-b');
    const { events, dup, fenced, line } = await handedOver('stream', id, a, b);
    process.stdout.write(`takeover fence, stream: lock connection of node-a ended with ${atCut}+ samples decided; node-b took it ${takenMs} ms later; ${line}\n`);
    await expectHandedOverOnce(id, events, dup, b);
    // The old owner lived on, and dropped what the fence refused: logged and counted (GET /metrics), never a failure.
    // With samples in flight 600 ms and more, some were always in flight at the cut (17-32 dropped in the runs seen).
    expect(a.child.exitCode).toBeNull();
    expect(a.output()).toMatch(new RegExp(`stream ${id}: lost`));
    expect(fenced.logged).toBeGreaterThan(0);
    expect(fenced.counted).toBe(fenced.logged + fenced.gaps);
  }, 600_000);

  it('a paused owner (SIGSTOP) whose lock connection ended meanwhile drops its samples in flight once it resumes', async () => {
    const e = await platform.start({ DDNN_NODE_ID: 'node-e' });
    const { id, decided: atPause } = await streamOn(e, 'node-e');
    const f = await platform.start({ DDNN_NODE_ID: 'node-f' });
    const pid = e.child.pid as number;
    process.kill(pid, 'SIGSTOP');
    let takenMs: number;
    try {
      const cutAt = await cutLock(id);
      await waitFor('node F to take the stream', () => f.output().includes(`stream ${id}: running on node-f`), 60_000, 20);
      takenMs = Date.now() - cutAt;
      // The new owner decides on, past every index the paused one had in flight.
      await samplesDecided(f, id, atPause + 60);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor('node E to give the stream up', () => e.output().includes(`stream ${id}: lost`), 60_000, 50);
    await runThenStop(id, f, 'node-f');
    const { events, dup, fenced, line } = await handedOver('stream', id, e, f);
    process.stdout.write(`takeover fence, paused owner: node-e stopped with ${atPause}+ samples decided, its lock connection ended; node-f took it ${takenMs} ms later; ${line}\n`);
    await expectHandedOverOnce(id, events, dup, f);
    expect(e.child.exitCode).toBeNull();
    expect(fenced.logged).toBeGreaterThan(0);
    expect(fenced.counted).toBe(fenced.logged + fenced.gaps);
  }, 600_000);

  it('hands a finite session over with every sample logged once; the old owner neither fails nor completes it', async () => {
    const c = await platform.start({ DDNN_NODE_ID: 'node-c' });
    const sim = await op.call<SimulationView>(c, 'POST', '/api/simulations', { devices: 6, link: { latencyMs: LINK_LATENCY_MS, bandwidthKbps: 100_000 } });
    const spec = researchSession(sim.devices.map((d) => ({ id: d.deviceId, view: d.view })), { rate: RATE, deadlineMs: 5000 });
    const { id } = await op.call<{ id: string }>(c, 'POST', '/api/sessions', spec);
    const view = (node = c) => op.call<SessionView>(node, 'GET', `/api/sessions/${id}`);
    expect(await waitFor('node C to run the session', async () => (await view()).owner, 60_000)).toBe('node-c');
    const d = await platform.start({ DDNN_NODE_ID: 'node-d' });
    const atCut = await waitFor('40 samples done on node C', async () => {
      const n = (await view()).samplesDone;
      return n >= 40 ? n : undefined;
    }, 120_000, 50);
    const cutAt = await cutLock(id);
    await waitFor('node D to take the session', () => d.output().includes(`session ${id}: running on node-d`), 60_000, 20);
    const takenMs = Date.now() - cutAt;
    const done = await waitForSessionCompleted(op, d, id, 240_000);
    const { events, dup, fenced, line } = await handedOver('session', id, c, d);
    process.stdout.write(`takeover fence, session: lock connection of node-c ended with ${atCut}+ samples done; node-d took it ${takenMs} ms later; ${line}\n`);
    expect(dup).toEqual({ started: [], decided: [] });
    expect(done.samplesDone).toBe(SESSION_SAMPLES);
    expect(new Set(of(events, 'SampleStarted').map((e) => e.data.sampleIndex)).size).toBe(SESSION_SAMPLES);
    expect(of(events, 'SessionStarted')).toHaveLength(1);
    expect(of(events, 'SessionCompleted')).toHaveLength(1);
    expect(of(events, 'SessionAborted')).toHaveLength(0);
    expect(c.child.exitCode).toBeNull();
    expect(c.output()).toMatch(new RegExp(`session ${id}: lost`));
    expect(fenced.counted).toBe(fenced.logged);
  }, 600_000);
});
