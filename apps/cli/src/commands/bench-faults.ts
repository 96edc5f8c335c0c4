import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { sampleSections, type CreateSessionRequest, type DeviceList, type SampleSections, type SessionEventsPage, type SessionView, type StoredEvent } from '@ddnn/contracts';
import { writeSynthDataset } from '@ddnn/datasets';
import { benchDatabase, buildApp, freePort, waitFor } from './bench-platform';
import { type Fault } from './bench';
import { repoRoot } from './repo-root';

export interface FaultSuiteFlags {
  samples: number;
  cuts: number;
  rate: number;
  model: string;
  pool: string;
  deviceWaitMs: number;
  build: boolean;
  /** Faults left out, to tell which one a failure comes from. */
  without: Fault[];
  json?: boolean;
}

/** The suite's verdict, read back from the session's log (the JSON line). */
export interface FaultSuiteResult {
  samples: number;
  /** Samples with exactly one outcome: one answering exit, or one SampleUnanswered. */
  samplesWithOneOutcome: number;
  /** Samples that ended without an answer (SampleUnanswered). */
  unanswered: number;
  lostAcknowledgedEvents: number;
  duplicateEvents: number;
  /** API exits nobody asked for (the suite's own SIGKILL is not counted). */
  apiExits: number;
  status: string;
  missedByReason: Record<string, number>;
}

const tStart = performance.now();
const log = (s: string) => process.stderr.write(`[${((performance.now() - tStart) / 1000).toFixed(1)} s] ${s}\n`);
const TOKEN = `faults-${randomBytes(12).toString('hex')}`;
const DATASET = 'faults';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The action of `ddnn bench faults` (registered in ./bench). */
export async function runBenchFaultsCommand(flags: FaultSuiteFlags): Promise<void> {
  const result = await runFaultSuite(flags);
  process.stdout.write(formatResult(result));
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** One API process on a fixed port (a restart comes back where the agents look for it). */
class ApiRunner {
  child: ChildProcess | null = null;
  output = '';
  unplannedExits = 0;
  private planned = false;

  constructor(
    private readonly main: string,
    private readonly env: Record<string, string>,
    readonly url: string,
  ) {}

  async start(): Promise<void> {
    this.planned = false;
    const child = spawn(process.execPath, [this.main], { cwd: repoRoot(), env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.planned) return;
      this.unplannedExits++;
      log(`  the API exited on its own (code ${code}, signal ${signal}); restarting it`);
      log(this.output.slice(-2000));
      void this.start().catch((e: Error) => log(`  restarting the API failed: ${e.message}`));
    });
    await waitFor('the API to be healthy', async () => ((await fetch(`${this.url}/api/health`)).ok ? true : undefined), 120_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.output.slice(-3000)}`);
    });
  }

  /** Messages of every API process run so far that mention `sessionId`. */
  sessionLines(sessionId: string): string[] {
    return this.output
      .split('\n')
      .filter((l) => l.includes(sessionId))
      .map((l) => {
        try {
          // pino's lines carry the text in `msg`.
          const line = JSON.parse(l) as { msg?: unknown; message?: unknown };
          return String(line.msg ?? line.message);
        } catch {
          return l;
        }
      })
      .map((m) => m.slice(0, 300));
  }

  /** Ends the process with `signal` (planned: not counted as an exit); resolves with how long it took. */
  async stop(signal: NodeJS.Signals): Promise<number> {
    const child = this.child;
    if (!child) return 0;
    this.planned = true;
    const t0 = performance.now();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    return Math.round(performance.now() - t0);
  }
}

async function runFaultSuite(flags: FaultSuiteFlags): Promise<FaultSuiteResult> {
  const root = repoRoot();
  const modelDir = path.resolve(flags.model);
  if (!fs.existsSync(path.join(modelDir, 'manifest.json'))) throw new Error(`no checkpoint at ${modelDir}: pass --model DIR`);
  if (!process.env.TEST_DATABASE_URL && !process.env.DATABASE_URL) {
    throw new Error('the fault suite cuts database connections: set DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server it may create a database on');
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ddnn-bench-faults-'));
  const dataDir = path.join(work, 'data');
  // The train split holds ~80% of a synthetic dataset: enough samples for the session.
  const datasetSamples = Math.ceil(flags.samples * 1.3) + 10;
  log(`synthesizing a ${datasetSamples}-sample dataset ...`);
  await writeSynthDataset(path.join(dataDir, 'datasets', DATASET), { samples: datasetSamples, seed: 7 });
  const db = await benchDatabase();
  const dbName = new URL(db.url as string).pathname.slice(1);
  const agents: ChildProcess[] = [];
  let api: ApiRunner | undefined;
  try {
    if (flags.build) log('building the API and the device agent ...');
    const apiMain = flags.build ? buildApp(root, 'api') : path.join(root, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
    const deviceMain = flags.build ? buildApp(root, 'device') : path.join(root, 'dist', 'apps', 'device', 'apps', 'device', 'src', 'main.js');
    const port = await freePort();
    api = new ApiRunner(
      apiMain,
      {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url as string,
        DDNN_DATA_DIR: dataDir,
        DDNN_DEFAULT_MODEL_DIR: modelDir,
        DDNN_ADMIN_TOKEN: TOKEN,
        DDNN_SIMULATED_DEVICES: '0',
        DDNN_DEMO: 'false',
        DDNN_SESSION_POLL_MS: '200',
        DDNN_DEVICE_WAIT_MS: String(flags.deviceWaitMs),
        LOG_FORMAT: 'json',
      },
      `http://127.0.0.1:${port}`,
    );
    log('starting the API ...');
    await api.start();
    const runner = api;
    const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${runner.url}${route}`, {
        method,
        headers: { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    const { provisioningKey } = await call<{ provisioningKey: string }>('POST', '/api/profiles', { name: 'fault-drill' });
    // Research mode asks each device twice per sample (scores, features), plus one warm-up request.
    const crashAt = Math.max(4, Math.round(flags.samples * 0.3) * 2);
    const faults: Record<number, string> = {};
    if (!flags.without.includes('garbage')) faults[4] = 'garbage';
    if (!flags.without.includes('crash')) faults[5] = `crash-at:${crashAt}`;
    log(`starting six device agents (${Object.entries(faults).map(([v, f]) => `cam-${v}: ${f}`).join(', ') || 'no faulty device'}) ...`);
    for (let view = 0; view < 6; view++) {
      const args = ['--server', runner.url, '--name', `cam-${view}`, '--view', String(view), '--profile-key', provisioningKey];
      args.push('--data', path.join(dataDir, 'datasets'), '--state', path.join(work, 'agents', `cam-${view}.json`), '--heartbeat-ms', '1000');
      if (faults[view]) args.push('--fault', faults[view]);
      const agent = spawn(process.execPath, [deviceMain, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      agent.stderr!.resume();
      agents.push(agent);
    }
    const devices = await waitFor(
      'six connected devices',
      async () => {
        const list = await call<DeviceList>('GET', '/api/devices?active=true&limit=50');
        return list.items.length >= 6 ? list.items : undefined;
      },
      // Six agents load their runtime at once: on a busy machine that takes a while.
      180_000,
    );
    const spec: CreateSessionRequest = {
      modelId: 'default',
      dataset: DATASET,
      split: 'train',
      limit: flags.samples,
      topology: { devices: devices.map((d) => ({ deviceId: d.id, view: d.view as number })).sort((a, b) => a.view - b.view) },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      mode: 'research',
      deadlineMs: 2000,
      rate: flags.rate,
    };
    const { id } = await call<{ id: string }>('POST', '/api/sessions', spec);
    log(
      `session ${id}: ${flags.samples} samples at ${flags.rate}/s; cutting '${flags.pool}' ${flags.cuts} times` +
        (flags.without.includes('kill') ? '' : ', SIGKILL and restart of the API at 40%'),
    );

    // Everything the API has shown as committed: it must all be in the log at the end.
    const acknowledged = new Set<string>();
    let after: string | undefined;
    let status = 'pending';
    let samplesDone = 0;
    const observe = async (): Promise<void> => {
      const v = await call<SessionView>('GET', `/api/sessions/${id}`);
      status = v.status;
      samplesDone = v.samplesDone;
    };
    const readAcknowledged = async (): Promise<void> => {
      for (;;) {
        const page = await call<SessionEventsPage>('GET', `/api/sessions/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
        for (const e of page.events) acknowledged.add(e.eventId);
        after = page.checkpoint ?? after;
        if (!page.hasMore) break;
      }
    };

    const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL });
    await admin.connect();
    let cutsDone = 0;
    let connectionsCut = 0;
    let killed = false;
    let restartMs = 0;
    const expectedMs = (flags.samples / flags.rate) * 1000;
    const cutEvery = flags.cuts ? expectedMs / (flags.cuts + 1) : Infinity;
    const t0 = performance.now();
    let nextCut = cutEvery;
    // Reads what the API shows as committed on its own loop, so cuts and the kill keep to their schedule.
    let reading = true;
    const reader = (async () => {
      while (reading) {
        await readAcknowledged().catch(() => undefined);
        await sleep(500);
      }
    })();
    const deadline = Date.now() + expectedMs * 3 + 300_000;
    try {
      while (!['completed', 'failed', 'stopped'].includes(status)) {
        if (Date.now() > deadline) throw new Error(`session ${id} did not end in time (status ${status}, ${samplesDone} samples done)`);
        await observe().catch(() => undefined);
        const elapsed = performance.now() - t0;
        if (cutsDone < flags.cuts && elapsed >= nextCut && runner.child) {
          const { rows } = await admin.query<{ n: string }>(
            'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
            [dbName, flags.pool],
          );
          cutsDone++;
          connectionsCut += Number(rows[0].n);
          nextCut += cutEvery;
        }
        if (!killed && !flags.without.includes('kill') && samplesDone >= flags.samples * 0.4) {
          killed = true;
          log(`  SIGKILL of the API at ${samplesDone} samples`);
          await runner.stop('SIGKILL');
          const tRestart = performance.now();
          await runner.start();
          restartMs = Math.round(performance.now() - tRestart);
          log(`  API back in ${restartMs} ms`);
        }
        await sleep(250);
      }
      // Cuts the session may have ended before are done now: the API must survive them idle too.
      while (cutsDone < flags.cuts) {
        const { rows } = await admin.query<{ n: string }>(
          'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
          [dbName, flags.pool],
        );
        cutsDone++;
        connectionsCut += Number(rows[0].n);
        await sleep(100);
      }
    } finally {
      reading = false;
      await reader;
      await admin.end();
    }
    if (!killed && !flags.without.includes('kill')) log('  the session ended before the API kill was due: lower --rate or raise --samples');
    await sleep(500);
    await observe();
    await readAcknowledged();

    const events: StoredEvent[] = [];
    for (let from: string | undefined; ; ) {
      const page = await call<SessionEventsPage>('GET', `/api/sessions/${id}/events?limit=1000${from ? `&after=${from}` : ''}`);
      events.push(...page.events);
      from = page.checkpoint ?? undefined;
      if (!page.hasMore) break;
    }
    const view = await call<SessionView>('GET', `/api/sessions/${id}`);
    const result = readBack(events, acknowledged, runner.unplannedExits, view.status);
    log(
      `  ${cutsDone} cuts terminated ${connectionsCut} connection(s); API restart ${restartMs} ms; ${events.length} events; ` +
        `ran without: ${view.summary?.ranWithout?.join(', ') || 'none'}${view.error ? `; error: ${view.error}` : ''}`,
    );
    // What the API nodes said about the session (resumes, devices it ran without, failures), for the record.
    for (const line of runner.sessionLines(id).slice(-15)) log(`  api: ${line}`);
    const shutdownMs = await runner.stop('SIGTERM');
    log(`  SIGTERM: the API exited in ${shutdownMs} ms`);
    return result;
  } finally {
    for (const a of agents) if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
    await api?.stop('SIGKILL').catch(() => undefined);
    await db.drop().catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * What identifies each fact an event records about one sample: the same key twice is the same fact logged twice.
 * A stage's sections are one fact each, so a sample run again with other devices answering still shows its repeats.
 */
function factKeys(e: StoredEvent): string[] {
  const d = e.data as unknown as Record<string, unknown>;
  switch (e.type) {
    case 'SessionStarted':
    case 'SessionCompleted':
      return [e.type];
    case 'SampleStarted':
      return [`${e.type}|${d.sampleIndex}`];
    case 'SectionEvaluated':
    case 'SectionsEvaluated': {
      const x = sampleSections(e) as SampleSections;
      return x.sections.map((s) => `section|${x.sampleIndex}|${s.tier}|${s.node}|${s.shadow}`);
    }
    case 'ExitDecided':
      return [`${e.type}|${d.sampleIndex}|${d.tier}|${d.shadow}`];
    case 'MessagesTransferred':
      return [`${e.type}|${d.sampleIndex}`];
    case 'DeviceMissed':
      return [`${e.type}|${d.sampleIndex}|${d.deviceId}|${d.stage}`];
    case 'SampleUnanswered':
      return [`${e.type}|${d.sampleIndex}`];
    default:
      // SessionDevicesAbsent may be logged at each (re)start; SessionAborted ends the log.
      return [];
  }
}

/** Checks the log read back against what was acknowledged during the run. */
function readBack(events: StoredEvent[], acknowledged: Set<string>, apiExits: number, status: string): FaultSuiteResult {
  const ids = new Set(events.map((e) => e.eventId));
  const seen = new Set<string>();
  let duplicateEvents = events.length - ids.size;
  const samples = new Set<number>();
  const exits = new Map<number, number>();
  const unanswered = new Map<number, number>();
  const missedByReason: Record<string, number> = {};
  for (const e of events) {
    const keys = factKeys(e);
    if (keys.some((k) => seen.has(k))) duplicateEvents++;
    for (const k of keys) seen.add(k);
    if (e.type === 'SampleStarted') samples.add(e.data.sampleIndex);
    if (e.type === 'ExitDecided' && !e.data.shadow && e.data.exited) exits.set(e.data.sampleIndex, (exits.get(e.data.sampleIndex) ?? 0) + 1);
    if (e.type === 'SampleUnanswered') unanswered.set(e.data.sampleIndex, (unanswered.get(e.data.sampleIndex) ?? 0) + 1);
    if (e.type === 'DeviceMissed') missedByReason[e.data.reason] = (missedByReason[e.data.reason] ?? 0) + 1;
  }
  return {
    samples: samples.size,
    samplesWithOneOutcome: [...samples].filter((i) => (exits.get(i) ?? 0) + (unanswered.get(i) ?? 0) === 1).length,
    unanswered: unanswered.size,
    lostAcknowledgedEvents: [...acknowledged].filter((id) => !ids.has(id)).length,
    duplicateEvents,
    apiExits,
    status,
    missedByReason,
  };
}

function formatResult(r: FaultSuiteResult): string {
  const missed = Object.entries(r.missedByReason).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `faults: session ${r.status}; ${r.samples} samples, ${r.samplesWithOneOutcome} with exactly one outcome (an exit, or unanswered: ${r.unanswered})`,
    `  lost acknowledged events ${r.lostAcknowledgedEvents}, duplicate events ${r.duplicateEvents}, unplanned API exits ${r.apiExits}`,
    `  device misses by reason: ${missed}`,
    '',
  ].join('\n');
}
