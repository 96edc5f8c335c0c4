import type { CreateSessionRequest, MessageSizes, NewEvent, SessionRunStats } from '@ddnn/contracts';
import type { DeviceRequester, EventSink, ServerSections } from './ports';
import { runPipelined } from './pipeline';
import { runSample, type SampleRef, type SessionPlan } from './sample-runner';

/** A model as the engine needs it: the server-side sections and what its messages weigh. */
export interface SessionModel {
  modelId: string;
  classes: string[];
  views: number;
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
  /** Summed over samples: server sections, device compute, transport, waiting for the log. */
  serverModelMs: number;
  deviceModelMs: number;
  transportMs: number;
  loggingMs: number;
  error?: string;
}

export class SessionSpecError extends Error {}

/** Checks what a session asks for against the model and dataset, naming the first problem. */
export function checkSpec(spec: CreateSessionRequest, model: SessionModel, data: SessionSamples): void {
  if (model.classes.join('\u0000') !== data.classes.join('\u0000')) {
    throw new SessionSpecError(`model ${model.modelId} classes [${model.classes}] differ from dataset ${spec.dataset} classes [${data.classes}]`);
  }
  const seen = new Set<number>();
  for (const d of spec.topology.devices) {
    if (d.view < 0 || d.view >= model.views) throw new SessionSpecError(`topology: view ${d.view} of device ${d.deviceId} is not a view of model ${model.modelId} (0..${model.views - 1})`);
    if (seen.has(d.view)) throw new SessionSpecError(`topology: view ${d.view} is served by two devices`);
    seen.add(d.view);
    if (d.edge && !(spec.topology.edges ?? []).some((e) => e.name === d.edge)) {
      throw new SessionSpecError(`topology: device ${d.deviceId} names edge '${d.edge}', which topology.edges does not list`);
    }
  }
  if (data.samples.length === 0) throw new SessionSpecError(`dataset ${spec.dataset} has no ${spec.split} samples`);
}

/**
 * Runs (or resumes) one session to its end on this node: checks, deploys, logs SessionStarted, runs the
 * samples not yet in the log through a bounded pipeline, then SessionCompleted or SessionAborted. Everything
 * it needs to resume lives in Postgres, so a node that takes the session over continues where the log stops.
 */
export async function runSession(sessionId: string, spec: CreateSessionRequest, deps: RunnerDeps): Promise<RunStats> {
  const t0 = performance.now();
  const stats: RunStats = { status: 'completed', samples: 0, events: 0, durationMs: 0, serverModelMs: 0, deviceModelMs: 0, transportMs: 0, loggingMs: 0 };
  const sink = deps.sink(sessionId);
  let done = 0;
  try {
    const [model, data] = await Promise.all([deps.loadModel(spec.modelId), deps.loadSamples(spec)]);
    checkSpec(spec, model, data);
    await deps.deploy(spec, model);
    await deps.markRunning(sessionId, data.samples.length);
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
    let lastProgress = 0;
    const flushProgress = async (force: boolean): Promise<void> => {
      if (!force && performance.now() - lastProgress < 250) return;
      lastProgress = performance.now();
      await deps.setProgress(sessionId, done);
    };
    try {
      await runPipelined(
        remaining,
        async (sample) => {
          const out = await runSample(plan, sample, deps.requester, model.sections);
          const tLog = performance.now();
          await sink.append(out.events);
          stats.loggingMs += performance.now() - tLog;
          stats.serverModelMs += out.timing.serverModelMs;
          stats.deviceModelMs += out.timing.deviceModelMs;
          stats.transportMs += out.timing.transportMs;
          stats.events += out.events.length;
          stats.samples++;
          done++;
          await flushProgress(false);
        },
        { window: deps.window, rate: spec.rate, shouldStop: () => halt !== null },
      );
    } finally {
      clearInterval(poller);
    }
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

function runStats(s: RunStats): SessionRunStats {
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    samples: s.samples,
    events: s.events,
    durationMs: round(s.durationMs),
    serverModelMs: round(s.serverModelMs),
    deviceModelMs: round(s.deviceModelMs),
    transportMs: round(s.transportMs),
    loggingMs: round(s.loggingMs),
  };
}
