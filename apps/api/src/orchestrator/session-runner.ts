import type { CreateSessionRequest, MessageSizes, NewEvent, SessionRunStats, SessionSpec, SessionStarted } from '@ddnn/contracts';
import { FencedAppendError, isDatabaseUnavailable } from '@ddnn/events';
import { sameClasses } from '@ddnn/datasets';
import type { DeviceRequester, EventSink, ServerSections } from './ports';
import { absentText, redeployedFirst, ReturningDevices, topologyDeviceIds, waitForDevices, type DeviceConnection } from './device-wait';
import { runPipelined } from './pipeline';
import { runSample, type SampleRef, type SessionPlan } from './sample-runner';

/** What a session request is checked against: the model's classes, device views and edges. */
export interface ModelShape {
  modelId: string;
  classes: string[];
  /** Views that have a device section. */
  deviceViews: number[];
  edges: { name: string; views: number[] }[];
}

/** A model as the engine needs it: the server-side sections and what its messages weigh. */
export interface SessionModel extends ModelShape {
  sections: ServerSections;
  messageSizes: MessageSizes;
}

/** The samples of a session, in order. */
export interface SessionSamples {
  classes: string[];
  views: number;
  samples: SampleRef[];
}

/** What the runner reads and writes; each a small port so the engine is testable without a server. */
export interface RunnerDeps {
  requester: DeviceRequester;
  loadModel(modelId: string): Promise<SessionModel>;
  loadSamples(spec: CreateSessionRequest): Promise<SessionSamples>;
  /** Makes sure every device of the topology has its section of the model installed. */
  /** Deploys the sections the run's devices lack; resolves to the devices whose deploy failed (none: void). */
  deploy(spec: CreateSessionRequest, model: SessionModel): Promise<string[] | void>;
  sink(sessionId: string): EventSink;
  /** Sample indices already in the session's log, and whether SessionStarted is there (resuming a session). */
  logged(sessionId: string): Promise<{ started: boolean; samples: Set<number> }>;
  setProgress(sessionId: string, samplesDone: number): Promise<void>;
  markRunning(sessionId: string, sampleCount: number): Promise<void>;
  /** Polled while running: stop requested by an operator, or this node lost the session's lock. */
  shouldStop(sessionId: string): Promise<'stop' | 'lost' | null>;
  finish(sessionId: string, status: 'completed' | 'stopped' | 'failed', samplesDone: number, error?: string, stats?: SessionRunStats): Promise<void>;
  /** Devices connected now (on this node or, clustered, any node), each with its connection. */
  connectedDevices(): Promise<DeviceConnection[]>;
  /**
   * The connection a device attached to this node is reachable through now (undefined: not attached here): a
   * request to one on a connection the run has not redeployed to waits for that (redeployedFirst).
   */
  connectionOf?(deviceId: string): string | undefined;
  /** Of `ids`, the devices no longer registered (deleted): the run does not wait for them. */
  unregisteredDevices?(ids: string[]): Promise<string[]>;
  /** How long a starting or resuming session waits for its devices before it runs without the missing ones. */
  deviceWaitMs: number;
  /** Samples in flight at once. */
  window: number;
  log?(message: string): void;
  /** A run failing or interrupted, for the operator's attention (log when absent). */
  warn?(message: string): void;
}

/** What a run measured (SessionRunStats, stored with the session, unrounded here) and how it ended. */
/** interrupted: the database stayed unreachable past the outage limit; the row stays running, so it resumes. */
export type RunStats = SessionRunStats & { status: 'completed' | 'stopped' | 'failed' | 'lost' | 'interrupted'; error?: string };

export class SessionSpecError extends Error {}
/** This node no longer owns the session (shutting down, or its lock is gone) before it ran a sample. */
class SessionLost extends Error {}

/**
 * Says how many of a run's samples its fence refused: they were in flight when another node took the run over
 * (this node's lock connection ended while it ran on) and were dropped, so that none is logged twice.
 */
export function reportFenced(run: string, fenced: number, log?: (message: string) => void): void {
  if (fenced > 0) log?.(`${run}: ${fenced} sample(s) dropped: another node owns the run now (its fence refused them)`);
}

/** Checks what a session asks for against the model and dataset; returns the first problem, or null. */
export function specProblem(spec: CreateSessionRequest, model: ModelShape, data: { classes: string[]; samples: number }): string | null {
  if (!sameClasses(model.classes, data.classes)) {
    return `model ${model.modelId} classes [${model.classes}] differ from dataset ${spec.dataset} classes [${data.classes}]`;
  }
  if (data.samples === 0) return `dataset ${spec.dataset} has no ${spec.split} samples`;
  const sessionEdges = spec.topology.edges ?? [];
  for (const e of sessionEdges) {
    if (!model.edges.some((m) => m.name === e.name)) return `topology.edges: model ${model.modelId} has no edge '${e.name}'`;
  }
  if (model.edges.length && !sessionEdges.length) return `model ${model.modelId} has an edge tier: topology.edges must list its edges (deviceId null = simulated in the server)`;
  if (sessionEdges.length && spec.policy.thresholds.edge === undefined) return 'policy.thresholds.edge is required with an edge tier';
  const seen = new Set<number>();
  const seenIds = new Set<string>();
  for (const d of spec.topology.devices) {
    if (!model.deviceViews.includes(d.view)) {
      return `topology.devices: view ${d.view} of device ${d.deviceId} has no section in model ${model.modelId} (views ${model.deviceViews.join(', ')})`;
    }
    if (seen.has(d.view)) return `topology.devices: view ${d.view} is served by two devices`;
    if (seenIds.has(d.deviceId)) return `topology.devices: device ${d.deviceId} is listed twice`;
    seen.add(d.view);
    seenIds.add(d.deviceId);
    const edge = model.edges.find((e) => e.views.includes(d.view));
    if ((d.edge ?? null) !== (sessionEdges.length ? (edge?.name ?? null) : null)) {
      return sessionEdges.length
        ? `topology.devices: view ${d.view} belongs to edge '${edge?.name}' in model ${model.modelId}, not '${d.edge ?? '(none)'}'`
        : `topology.devices: device ${d.deviceId} names edge '${d.edge}', but the topology has no edges`;
    }
  }
  return null;
}

/** The run's name, tags and recorded configuration, as SessionStarted carries them (absent fields stay absent). */
function runRecord(spec: CreateSessionRequest): Pick<SessionStarted, 'name' | 'tags' | 'configuration'> {
  const s = spec as SessionSpec;
  return { ...(s.name ? { name: s.name } : {}), ...(s.tags?.length ? { tags: s.tags } : {}), ...(s.configuration ? { configuration: s.configuration } : {}) };
}

/**
 * Runs (or resumes) one session to its end on this node: checks, deploys, logs SessionStarted, runs the
 * samples not yet in the log through a bounded pipeline, then SessionCompleted or SessionAborted. Everything
 * it needs to resume lives in Postgres, so a node that takes the session over continues where the log stops.
 */
export async function runSession(sessionId: string, spec: CreateSessionRequest, deps: RunnerDeps): Promise<RunStats> {
  const t0 = performance.now();
  const stats: RunStats = { status: 'completed', samples: 0, events: 0, durationMs: 0, pipelineMs: 0, serverModelMs: 0, deviceModelMs: 0, transportMs: 0, loggingMs: 0 };
  const sink = deps.sink(sessionId);
  let done = 0;
  // Stop and loss of the lock are watched from the start: waiting for devices or a warm-up must not hold them up.
  let halt: 'stop' | 'lost' | null = null;
  let returning: ReturningDevices | null = null;
  const requester = deps.connectionOf ? redeployedFirst(deps.requester, () => returning, deps.connectionOf) : deps.requester;
  let polls = 0;
  let fenced = 0;
  const poller = setInterval(() => {
    deps.shouldStop(sessionId).then(
      (h) => (halt ??= h),
      () => undefined,
    );
    if (returning && ++polls % 4 === 0) void returning.check();
  }, 250);
  try {
    const [model, data] = await Promise.all([deps.loadModel(spec.modelId), deps.loadSamples(spec)]);
    const problem = specProblem(spec, model, { classes: data.classes, samples: data.samples.length });
    if (problem) throw new SessionSpecError(problem);
    await deps.markRunning(sessionId, data.samples.length);
    const logged = await deps.logged(sessionId);
    const ids = topologyDeviceIds(spec);
    const halted = () => halt !== null;
    const absent = await waitForDevices(ids, { connected: () => deps.connectedDevices(), unregistered: deps.unregisteredDevices, halted, waitMs: deps.deviceWaitMs });
    const cameras = spec.topology.devices.map((d) => d.deviceId);
    // A new session without one camera: every sample would end unanswered in a moment, and the session "complete" with
    // nothing to show. A session taken over goes on: its cameras are on their way back to a live node.
    if (halt === null && !logged.started && cameras.every((id) => absent.missing.includes(id))) {
      throw new Error(`none of its ${cameras.length} end device(s) connected within ${Math.round(absent.waitedMs / 1000)} s (DDNN_DEVICE_WAIT_MS): nothing to run it on`);
    }
    let failedAtStart: string[] = [];
    await untilHalted(deps.deploy(spec, model).then((failed) => void (failedAtStart = failed ?? [])), halted);
    await untilHalted(warmUp(sessionId, spec, data.samples[0], deps, new Set(absent.missing)), halted);
    // Lost while waiting (shutdown, or another node holds the lock now): nothing more is written here.
    if (halt === 'lost') throw new SessionLost();
    returning = new ReturningDevices(ids, absent.connections, () => deps.connectedDevices(), () => deps.deploy(spec, model), (m) => deps.log?.(`session ${sessionId}: ${m}`), failedAtStart);
    if (!logged.started) {
      await sink.append([
        {
          type: 'SessionStarted',
          data: {
            sessionId,
            modelId: spec.modelId,
            dataset: spec.dataset,
            split: spec.split,
            classes: model.classes,
            sampleCount: data.samples.length,
            topology: spec.topology,
            policy: spec.policy,
            mode: spec.mode,
            deadlineMs: spec.deadlineMs,
            messageSizes: model.messageSizes,
            ...runRecord(spec),
          },
        },
      ]);
    }
    if (absent.missing.length) {
      deps.log?.(`session ${sessionId}: running without device(s) ${absentText(absent)}`);
      await sink.append([
        {
          type: 'SessionDevicesAbsent',
          data: { sessionId, deviceIds: absent.missing, waitedMs: absent.waitedMs, fromSample: logged.samples.size, resumed: logged.started },
        },
      ]);
    }
    done = logged.samples.size;
    const remaining = data.samples.filter((s) => !logged.samples.has(s.index));
    if (logged.samples.size) deps.log?.(`session ${sessionId}: resuming with ${remaining.length} of ${data.samples.length} samples left`);
    const plan: SessionPlan = {
      sessionId,
      dataset: spec.dataset,
      topology: spec.topology,
      policy: spec.policy,
      mode: spec.mode,
      deadlineMs: spec.deadlineMs,
      messageSizes: model.messageSizes,
    };

    const explained = new Set<string>();
    let lastProgress = 0;
    // Progress is a hint for people (the log is the truth): a failed update is retried by the next one.
    const flushProgress = (): void => {
      if (performance.now() - lastProgress < 250) return;
      lastProgress = performance.now();
      deps.setProgress(sessionId, done).catch(() => undefined);
    };
    // A sample frees its pipeline slot once computed; its commit is awaited apart (at most `window` of them
    // outstanding), so the log's commit latency overlaps with the next samples instead of holding slots.
    const commits = new Set<Promise<void>>();
    // Samples waiting for a commit to settle (several may, one per pipeline slot), woken together as a race over
    // the commits would wake them, without subscribing each wait to every outstanding commit (O(window) a sample).
    let commitWaiters: (() => void)[] = [];
    let commitFailure: { error: unknown } | null = null;
    const tPipeline = performance.now();
    try {
      await runPipelined(
        remaining,
        async (sample) => {
          if (commitFailure) throw commitFailure.error;
          const out = await runSample(plan, sample, requester, model.sections);
          for (const m of out.missDetails) {
            // The first miss of each device says why in the node's log; the rest only count.
            if (explained.has(m.deviceId)) continue;
            explained.add(m.deviceId);
            deps.log?.(`session ${sessionId}: device ${m.deviceId} missed sample ${sample.index}: ${m.detail}`);
          }
          stats.serverModelMs += out.timing.serverModelMs;
          stats.deviceModelMs += out.timing.deviceModelMs;
          stats.transportMs += out.timing.transportMs;
          while (commits.size >= deps.window) await new Promise<void>((r) => commitWaiters.push(r));
          const tLog = performance.now();
          const commit: Promise<void> = sink
            .append(out.events)
            .then(() => {
              stats.loggingMs += performance.now() - tLog;
              stats.events += out.events.length;
              stats.samples++;
              done++;
              flushProgress();
            })
            .catch((error: unknown) => {
              // Another node runs the session now: this sample is dropped (counted) and nothing more is logged here.
              if (error instanceof FencedAppendError) {
                fenced++;
                halt ??= 'lost';
              } else commitFailure ??= { error };
            })
            .finally(() => {
              commits.delete(commit);
              const waiters = commitWaiters;
              commitWaiters = [];
              for (const wake of waiters) wake();
            });
          commits.add(commit);
        },
        { window: deps.window, rate: spec.rate, shouldStop: () => halt !== null || commitFailure !== null },
      );
    } finally {
      await Promise.all(commits);
      stats.pipelineMs = performance.now() - tPipeline;
      reportFenced(`session ${sessionId}`, fenced, deps.log);
    }
    if (commitFailure) throw (commitFailure as { error: unknown }).error;
    const durationMs = Math.round(performance.now() - t0);
    stats.durationMs = durationMs;
    if (halt === 'lost') {
      stats.status = 'lost';
    } else if (halt === 'stop' && done < data.samples.length) {
      await sink.append([{ type: 'SessionAborted', data: { sessionId, reason: 'stopped by an operator', samplesDone: done } }]);
      await deps.finish(sessionId, 'stopped', done, undefined, runStats(stats));
      stats.status = 'stopped';
    } else {
      await sink.append([{ type: 'SessionCompleted', data: { sessionId, samples: done, durationMs } }]);
      await deps.finish(sessionId, 'completed', done, undefined, runStats(stats));
    }
  } catch (e) {
    if (e instanceof SessionLost || e instanceof FencedAppendError) {
      stats.status = 'lost';
      stats.durationMs = performance.now() - t0;
      return stats;
    }
    const message = e instanceof Error ? e.message : String(e);
    if (isDatabaseUnavailable(e)) {
      stats.status = 'interrupted';
      stats.error = message;
      (deps.warn ?? deps.log)?.(`session ${sessionId} interrupted (it resumes when the database is back): ${message}`);
      stats.durationMs = performance.now() - t0;
      return stats;
    }
    stats.status = 'failed';
    stats.error = message;
    (deps.warn ?? deps.log)?.(`session ${sessionId} failed: ${message}`);
    const aborted: NewEvent = { type: 'SessionAborted', data: { sessionId, reason: message, samplesDone: done } };
    await sink.append([aborted]).catch(() => undefined);
    await deps.finish(sessionId, 'failed', done, message).catch(() => undefined);
  } finally {
    clearInterval(poller);
  }
  stats.durationMs = performance.now() - t0;
  return stats;
}

/** How long a device may take to get ready (load its view of the dataset) before the first sample. */
const WARM_UP_MS = 60_000;

/**
 * Asks every device for the first sample's scores once, off the record, before the session starts: a device
 * loads its view of the dataset on first use, which would otherwise make the first samples miss their deadline.
 */
async function warmUp(sessionId: string, spec: CreateSessionRequest, first: SampleRef, deps: RunnerDeps, absent: Set<string>): Promise<void> {
  const t0 = performance.now();
  await Promise.all(
    spec.topology.devices.filter((d) => !absent.has(d.deviceId)).map((d) =>
      deps.requester
        .request(
          d.deviceId,
          { stage: 'scores', sessionId: `warmup-${sessionId}`, sampleIndex: first.index, dataset: spec.dataset, sampleId: first.sampleId },
          Math.max(WARM_UP_MS, spec.deadlineMs),
        )
        .then(
          // A view the camera did not capture for that sample is a skipped capture, not a device that failed.
          (r) => (r.ok || 'skipped' in r ? undefined : deps.log?.(`session ${sessionId}: device ${d.deviceId} failed its warm-up: ${r.error}`)),
          (e: unknown) => deps.log?.(`session ${sessionId}: device ${d.deviceId} failed its warm-up: ${e instanceof Error ? e.message : e}`),
        ),
    ),
  );
  deps.log?.(`session ${sessionId}: devices ready in ${Math.round(performance.now() - t0)} ms`);
}

/** Resolves when `work` does or, sooner, once `halted()` turns true (checked every 100 ms). */
async function untilHalted(work: Promise<void>, halted: () => boolean): Promise<void> {
  // Left behind on a halt, a later failure of `work` has no one to report to.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const watch = new Promise<void>((resolve) => {
    timer = setInterval(() => halted() && resolve(), 100);
  });
  try {
    await Promise.race([work, watch]);
  } finally {
    clearInterval(timer);
  }
}

/** What a run measured, rounded as the sessions table stores it. */
export function runStats(s: RunStats): SessionRunStats {
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    samples: s.samples,
    events: s.events,
    durationMs: round(s.durationMs),
    pipelineMs: round(s.pipelineMs),
    serverModelMs: round(s.serverModelMs),
    deviceModelMs: round(s.deviceModelMs),
    transportMs: round(s.transportMs),
    loggingMs: round(s.loggingMs),
  };
}
