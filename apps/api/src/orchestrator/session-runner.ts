import type { CreateSessionRequest, MessageSizes, NewEvent, SessionRunStats, SessionSpec, SessionStarted } from '@ddnn/contracts';
import type { DeviceRequester, EventSink, ServerSections } from './ports';
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
  deploy(spec: CreateSessionRequest, model: SessionModel): Promise<void>;
  sink(sessionId: string): EventSink;
  /** Sample indices already in the session's log, and whether SessionStarted is there (resuming a session). */
  logged(sessionId: string): Promise<{ started: boolean; samples: Set<number> }>;
  setProgress(sessionId: string, samplesDone: number): Promise<void>;
  markRunning(sessionId: string, sampleCount: number): Promise<void>;
  /** Polled while running: stop requested by an operator, or this node lost the session's lock. */
  shouldStop(sessionId: string): Promise<'stop' | 'lost' | null>;
  finish(sessionId: string, status: 'completed' | 'stopped' | 'failed', samplesDone: number, error?: string, stats?: SessionRunStats): Promise<void>;
  /** Samples in flight at once. */
  window: number;
  log?(message: string): void;
}

/** What a run measured (for the benchmark and the logs). */
export interface RunStats {
  status: 'completed' | 'stopped' | 'failed' | 'lost';
  samples: number;
  events: number;
  durationMs: number;
  pipelineMs: number;
  /** Summed over samples: server sections, device compute, transport, waiting for the log. */
  serverModelMs: number;
  deviceModelMs: number;
  transportMs: number;
  loggingMs: number;
  error?: string;
}

export class SessionSpecError extends Error {}

/** Checks what a session asks for against the model and dataset; returns the first problem, or null. */
export function specProblem(spec: CreateSessionRequest, model: ModelShape, data: { classes: string[]; samples: number }): string | null {
  if (model.classes.join('\u0000') !== data.classes.join('\u0000')) {
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
  try {
    const [model, data] = await Promise.all([deps.loadModel(spec.modelId), deps.loadSamples(spec)]);
    const problem = specProblem(spec, model, { classes: data.classes, samples: data.samples.length });
    if (problem) throw new SessionSpecError(problem);
    await deps.markRunning(sessionId, data.samples.length);
    await deps.deploy(spec, model);
    await warmUp(sessionId, spec, data.samples[0], deps);
    const logged = await deps.logged(sessionId);
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

    let halt: 'stop' | 'lost' | null = null;
    const poller = setInterval(() => {
      deps.shouldStop(sessionId).then(
        (h) => (halt ??= h),
        () => undefined,
      );
    }, 250);
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
    let commitFailure: { error: unknown } | null = null;
    const tPipeline = performance.now();
    try {
      await runPipelined(
        remaining,
        async (sample) => {
          if (commitFailure) throw commitFailure.error;
          const out = await runSample(plan, sample, deps.requester, model.sections);
          for (const m of out.missDetails) {
            // The first miss of each device says why in the node's log; the rest only count.
            if (explained.has(m.deviceId)) continue;
            explained.add(m.deviceId);
            deps.log?.(`session ${sessionId}: device ${m.deviceId} missed sample ${sample.index}: ${m.detail}`);
          }
          stats.serverModelMs += out.timing.serverModelMs;
          stats.deviceModelMs += out.timing.deviceModelMs;
          stats.transportMs += out.timing.transportMs;
          while (commits.size >= deps.window) await Promise.race(commits);
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
              commitFailure ??= { error };
            })
            .finally(() => commits.delete(commit));
          commits.add(commit);
        },
        { window: deps.window, rate: spec.rate, shouldStop: () => halt !== null || commitFailure !== null },
      );
    } finally {
      clearInterval(poller);
      await Promise.all(commits);
      stats.pipelineMs = performance.now() - tPipeline;
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
    const message = e instanceof Error ? e.message : String(e);
    stats.status = 'failed';
    stats.error = message;
    deps.log?.(`session ${sessionId} failed: ${message}`);
    const aborted: NewEvent = { type: 'SessionAborted', data: { sessionId, reason: message, samplesDone: done } };
    await sink.append([aborted]).catch(() => undefined);
    await deps.finish(sessionId, 'failed', done, message).catch(() => undefined);
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
async function warmUp(sessionId: string, spec: CreateSessionRequest, first: SampleRef, deps: RunnerDeps): Promise<void> {
  const t0 = performance.now();
  await Promise.all(
    spec.topology.devices.map((d) =>
      deps.requester
        .request(
          d.deviceId,
          { stage: 'scores', sessionId: `warmup-${sessionId}`, sampleIndex: first.index, dataset: spec.dataset, sampleId: first.sampleId },
          Math.max(WARM_UP_MS, spec.deadlineMs),
        )
        .then(
          (r) => (r.ok ? undefined : deps.log?.(`session ${sessionId}: device ${d.deviceId} failed its warm-up: ${r.error}`)),
          (e: unknown) => deps.log?.(`session ${sessionId}: device ${d.deviceId} failed its warm-up: ${e instanceof Error ? e.message : e}`),
        ),
    ),
  );
  deps.log?.(`session ${sessionId}: devices ready in ${Math.round(performance.now() - t0)} ms`);
}

function runStats(s: RunStats): SessionRunStats {
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
