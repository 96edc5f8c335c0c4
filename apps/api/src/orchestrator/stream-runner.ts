import { LIVE_DATASET, type CreateSessionRequest, type InferReply, type NewEvent, type SessionRunStats, type StreamSpec } from '@ddnn/contracts';
import { FencedAppendError, isDatabaseUnavailable } from '@ddnn/events';
import { sameClasses } from '@ddnn/datasets';
import { absentText, redeployedFirst, ReturningDevices, topologyDeviceIds, waitForDevices, type DeviceConnection } from './device-wait';
import type { DeviceRequester, EventSink } from './ports';
import { runSample, type SessionPlan } from './sample-runner';
import { reportFenced, runStats, specProblem, type ModelShape, type RunStats, type SessionModel } from './session-runner';
import { TriggerSchedule } from './trigger-schedule';

/** What a stream runner reads and writes; small ports, as the session runner's, so it runs without a server. */
export interface StreamRunnerDeps {
  requester: DeviceRequester;
  loadModel(modelId: string): Promise<SessionModel>;
  /** Sample ids of the split devices without a live source replay (see CreateStreamRequest.replay), in order. */
  loadReplay(replay: NonNullable<StreamSpec['replay']>): Promise<{ classes: string[]; sampleIds: string[] }>;
  /** As RunnerDeps.deploy: resolves to the devices whose deploy failed (none: void). */
  deploy(spec: StreamSpec, model: SessionModel): Promise<string[] | void>;
  sink(runId: string): EventSink;
  /**
   * Whether StreamStarted is logged, the samples logged, the highest index and the trigger time of the last sample
   * logged (resuming a stream: where its outage began).
   */
  logged(runId: string): Promise<LoggedStream>;
  setProgress(runId: string, samplesDone: number): Promise<void>;
  markRunning(runId: string): Promise<void>;
  shouldStop(runId: string): Promise<'stop' | 'lost' | null>;
  /**
   * Calls `onHalt` as soon as a stop is requested or the run is lost to this node (a notification, a closed lock
   * connection), and resolves to its cancel; without it, or until it resolves, shouldStop is polled every 250 ms.
   * With it, shouldStop is only the fallback, every STOP_FALLBACK_POLL_MS: an idle demo stream's stop polls were
   * four of its queries a second.
   */
  watchStop?(runId: string, onHalt: (halt: 'stop' | 'lost') => void): Promise<() => void>;
  finish(runId: string, status: 'stopped' | 'failed', samplesDone: number, error?: string, stats?: SessionRunStats): Promise<void>;
  connectedDevices(): Promise<DeviceConnection[]>;
  /** As RunnerDeps.connectionOf: a device on a connection not redeployed to yet is asked for a sample once it is. */
  connectionOf?(deviceId: string): string | undefined;
  /** Of `ids`, the devices no longer registered (deleted): the stream does not wait for them. */
  unregisteredDevices?(ids: string[]): Promise<string[]>;
  deviceWaitMs: number;
  /**
   * Samples in flight at least (streamWindow scales it with the rate): a trigger that finds them all busy waits,
   * and the schedule restarts from then on (triggers dropped, never a burst).
   */
  window: number;
  /** A capture farther than this from its trigger is a skipped (stale) capture. */
  captureToleranceMs: number;
  /** Wall clock (epoch ms) of triggers; devices stamp captures with theirs. */
  now?: () => number;
  log?(message: string): void;
  /** A run failing or interrupted, for the operator's attention (log when absent). */
  warn?(message: string): void;
  /** Each sample once its events are durable: its trigger time and how long after it that was (benchmarks). */
  onSampleLogged?(sampleIndex: number, triggeredAt: number, lagMs: number): void;
}

export interface LoggedStream {
  started: boolean;
  samples: number;
  lastIndex: number | null;
  lastTriggeredAt: number | null;
}

/** Longest pause between two looks at a stop while waiting for the next trigger. */
const STOP_CHECK_MS = 100;
/** How often a run that watches for its stop (watchStop) still asks, in case a notification went astray. */
export const STOP_FALLBACK_POLL_MS = 5000;
/**
 * How often the run's row gets its samples done: a stream's views count samples from its log (the summary); the
 * row's count is a fallback, and writing it after every sample was two of an idle demo stream's queries a second.
 */
const PROGRESS_EVERY_MS = 5000;
/** How often devices that were away are looked for (ReturningDevices). */
const RETURNING_CHECK_MS = 1000;
/**
 * How long a stream's samples may be in flight (trigger to durable log) before new triggers wait for the window:
 * the window holds this much of the rate, at least the configured one. A stream promises decisions within a
 * second; a fixed window of 32 restarted the schedule (dropping triggers) at 520 samples/s whenever a commit took
 * longer than 64 ms (p99 77 ms), and held 429/s where a window of half a second of samples held 650/s.
 */
export const STREAM_IN_FLIGHT_SECONDS = 0.5;

/** Samples a stream at `rate` keeps in flight at most. */
export function streamWindow(configured: number, rate: number): number {
  return Math.max(configured, Math.ceil(rate * STREAM_IN_FLIGHT_SECONDS));
}

/** A stream's spec as the session checks take it: the model's classes stand for the absent dataset's. */
export function streamSpecProblem(spec: StreamSpec, model: ModelShape, replayClasses?: string[]): string | null {
  if (replayClasses && !sameClasses(replayClasses, model.classes)) {
    return `replay: dataset ${spec.replay?.dataset} classes [${replayClasses}] differ from model ${model.modelId} classes [${model.classes}]`;
  }
  const asSession = { ...spec, dataset: spec.replay?.dataset ?? LIVE_DATASET, split: spec.replay?.split ?? 'test', mode: spec.mode ?? 'production' } as CreateSessionRequest;
  return specProblem(asSession, model, { classes: model.classes, samples: 1 });
}

/**
 * A scores reply with its capture time on this server's clock, and the device clock's offset taken out (0 when
 * none was). The device says when it replied on its own clock (`repliedAt`); on this clock that moment lies between
 * the request's sending and the reply's arrival, so the offset lies in [repliedAt - receivedAt, repliedAt - sentAt].
 * Only what lies outside that interval is certain, and only that is taken out (at most the round trip is left): a
 * camera without NTP, or set to another zone's time, still matches its triggers, and a device in sync, or slow to
 * answer (its reply stamped late in the round trip), is left as it reported. Older agents send no `repliedAt`:
 * their capture times are taken as they are.
 */
export function onServerClock(reply: InferReply, sentAt: number, receivedAt: number): { reply: InferReply; clockOffsetMs: number } {
  if (!reply.ok || !('repliedAt' in reply) || typeof reply.repliedAt !== 'number' || typeof reply.capturedAt !== 'number') return { reply, clockOffsetMs: 0 };
  const ahead = reply.repliedAt - receivedAt;
  const behind = reply.repliedAt - sentAt;
  const offset = ahead > 0 ? Math.round(ahead) : behind < 0 ? Math.round(behind) : 0;
  return offset === 0 ? { reply, clockOffsetMs: 0 } : { reply: { ...reply, capturedAt: reply.capturedAt - offset }, clockOffsetMs: offset };
}

/**
 * A scores reply checked against its trigger: a capture whose time (on this server's clock: onServerClock) is
 * farther than the tolerance from the trigger (a stale frame, or a device that captured late) does not show the
 * moment the other cameras show, so it becomes a skipped capture with the reason, which the sample logs as
 * DeviceMissed `skipped`. `clockOffsetMs`: what onServerClock took out, said in the reason.
 */
export function matchCapture(reply: InferReply, triggeredAt: number, toleranceMs: number, clockOffsetMs = 0): InferReply {
  if (!reply.ok || !('capturedAt' in reply) || typeof reply.capturedAt !== 'number') return reply;
  const offset = reply.capturedAt - triggeredAt;
  if (Math.abs(offset) <= toleranceMs) return reply;
  const when = offset < 0 ? `${-offset} ms before` : `${offset} ms after`;
  const clock = clockOffsetMs === 0 ? '' : `; the device clock is ${Math.abs(clockOffsetMs)} ms ${clockOffsetMs > 0 ? 'ahead of' : 'behind'} the server's, taken out`;
  return { ok: false, skipped: true, cause: 'source', error: `stale capture: captured ${when} the trigger (tolerance ${toleranceMs} ms${clock})` };
}

/**
 * Runs (or resumes) a stream on this node until it is stopped: every 1/rate s a trigger starts a sample whose
 * devices capture from their own sources; the sample goes through the same exit core and sample runner as a
 * session's, its events appended to `stream-<id>` with the trigger time. Sample indices increase; a resumed
 * stream goes on after the highest index logged (samples in flight on a node that died are not re-run: their
 * moment has passed; those of a node that lost the stream but runs on are refused by the run's fence, taken by the
 * scheduler before `logged` is read, and dropped here). The TriggerSchedule says when each trigger is due: triggers
 * held back by a stall of up to MAX_CATCH_UP_MS are made up; a longer stall, or samples holding the whole window,
 * restart the schedule from now, and the triggers dropped are counted and logged.
 */
export async function runStream(runId: string, spec: StreamSpec, deps: StreamRunnerDeps): Promise<RunStats> {
  const t0 = performance.now();
  const now = deps.now ?? Date.now;
  const stats: RunStats = { status: 'stopped', samples: 0, events: 0, durationMs: 0, pipelineMs: 0, serverModelMs: 0, deviceModelMs: 0, transportMs: 0, loggingMs: 0 };
  const sink = deps.sink(runId);
  let halt: 'stop' | 'lost' | null = null;
  let returning: ReturningDevices | null = null;
  const deviceRequester = deps.connectionOf ? redeployedFirst(deps.requester, () => returning, deps.connectionOf) : deps.requester;
  let stopWatched = false;
  let lastStopPoll = 0;
  let lastReturningCheck = 0;
  const poller = setInterval(() => {
    const t = performance.now();
    if (!stopWatched || t - lastStopPoll >= STOP_FALLBACK_POLL_MS) {
      lastStopPoll = t;
      deps.shouldStop(runId).then(
        (h) => (halt ??= h),
        () => undefined,
      );
    }
    if (returning && t - lastReturningCheck >= RETURNING_CHECK_MS) {
      lastReturningCheck = t;
      void returning.check();
    }
  }, 250);
  let unwatch: (() => void) | null = null;
  let ended = false;
  if (deps.watchStop) {
    deps.watchStop(runId, (h) => (halt ??= h)).then(
      (cancel) => {
        if (ended) return cancel();
        unwatch = cancel;
        stopWatched = true;
        // A stop requested before the watch began was not notified to it: ask once now.
        lastStopPoll = 0;
      },
      (e: unknown) => deps.log?.(`stream ${runId}: watching for its stop failed (polling instead): ${e instanceof Error ? e.message : String(e)}`),
    );
  }
  let done = 0;
  let fenced = 0;
  let fencedGaps = 0;
  try {
    const model = await deps.loadModel(spec.modelId);
    const replay = spec.replay ? await deps.loadReplay(spec.replay) : null;
    if (replay && replay.sampleIds.length === 0) throw new StreamSpecError(`replay: dataset ${spec.replay?.dataset} has no ${spec.replay?.split} samples`);
    const problem = streamSpecProblem(spec, model, replay?.classes);
    if (problem) throw new StreamSpecError(problem);
    await deps.markRunning(runId);
    const logged = await deps.logged(runId);
    const ids = topologyDeviceIds(spec);
    const absent = await waitForDevices(ids, { connected: () => deps.connectedDevices(), unregistered: deps.unregisteredDevices, halted: () => halt !== null, waitMs: deps.deviceWaitMs });
    const failedAtStart = halt === null ? ((await deps.deploy(spec, model)) ?? []) : [];
    if (halt === 'lost') {
      stats.status = 'lost';
      return stats;
    }
    returning = new ReturningDevices(ids, absent.connections, () => deps.connectedDevices(), () => deps.deploy(spec, model), (m) => deps.log?.(`stream ${runId}: ${m}`), failedAtStart);
    const mode = spec.mode ?? 'production';
    if (!logged.started) {
      await sink.append([
        {
          type: 'StreamStarted',
          data: {
            sessionId: runId,
            modelId: spec.modelId,
            classes: model.classes,
            topology: spec.topology,
            policy: spec.policy,
            mode,
            deadlineMs: spec.deadlineMs,
            rate: spec.rate,
            captureToleranceMs: deps.captureToleranceMs,
            ...(spec.replay ? { replay: spec.replay } : {}),
            messageSizes: model.messageSizes,
            ...(spec.name ? { name: spec.name } : {}),
            ...(spec.tags?.length ? { tags: spec.tags } : {}),
            ...(spec.configuration ? { configuration: spec.configuration } : {}),
          },
        },
      ]);
    }
    const from = (logged.lastIndex ?? -1) + 1;
    done = logged.samples;
    if (absent.missing.length) {
      deps.log?.(`stream ${runId}: running without device(s) ${absentText(absent)}`);
      await sink.append([
        { type: 'SessionDevicesAbsent', data: { sessionId: runId, deviceIds: absent.missing, waitedMs: absent.waitedMs, fromSample: from, resumed: logged.started } },
      ]);
    }
    if (from > 0) deps.log?.(`stream ${runId}: resuming at sample ${from}`);
    const plan: SessionPlan = {
      sessionId: runId,
      dataset: spec.replay?.dataset ?? LIVE_DATASET,
      topology: spec.topology,
      policy: spec.policy,
      mode,
      deadlineMs: spec.deadlineMs,
      messageSizes: model.messageSizes,
    };
    const explained = new Set<string>();
    let lastProgress = 0;
    const flushProgress = (): void => {
      if (performance.now() - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = performance.now();
      deps.setProgress(runId, done).catch(() => undefined);
    };
    const inFlight = new Set<Promise<void>>();
    // One waiter for a free slot, not Promise.race over the samples in flight: a race subscribes to every pending
    // sample (half a second of the rate), so each wait cost O(window) reactions, all fired as the samples settled.
    let slotFreed: (() => void) | null = null;
    let failure: { error: unknown } | null = null;
    const stopped = () => halt !== null || failure !== null;
    const window = streamWindow(deps.window, spec.rate);
    const tPipeline = performance.now();
    const schedule = new TriggerSchedule({
      rate: spec.rate,
      window,
      clock: () => performance.now(),
      wall: now,
      name: `stream ${runId}`,
      log: deps.log,
      silenced: () => halt === 'lost' || failure !== null,
      appendGap: (gap) =>
        sink.append([{ type: 'StreamGap', data: { sessionId: runId, ...gap } }]).catch((error: unknown) => {
          if (!(error instanceof FencedAppendError)) failure ??= { error };
          else {
            fencedGaps++;
            halt ??= 'lost';
          }
        }),
    });
    let nextIndex = from;
    for (let index = from; !stopped(); index++) {
      for (let left = schedule.untilDue(); left > 0 && !stopped(); left = schedule.untilDue()) {
        await new Promise((r) => setTimeout(r, Math.min(left, STOP_CHECK_MS)));
      }
      if (inFlight.size >= window) {
        while (inFlight.size >= window && !stopped()) await new Promise<void>((r) => (slotFreed = r));
        schedule.windowFreed();
      }
      if (stopped()) break;
      const triggeredAt = now();
      // The first trigger after an outage: the triggers nobody fired since the last sample logged.
      if (index === from && logged.lastTriggeredAt !== null) schedule.outage(logged.lastTriggeredAt, triggeredAt, index);
      schedule.fired(index);
      nextIndex = index + 1;
      const p: Promise<void> = runTriggered(index, triggeredAt)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => {
          inFlight.delete(p);
          const wake = slotFreed;
          slotFreed = null;
          wake?.();
        });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    await schedule.end(nextIndex);
    stats.pipelineMs = performance.now() - tPipeline;
    reportFenced(`stream ${runId}`, fenced, deps.log);
    if (fencedGaps > 0) deps.log?.(`stream ${runId}: ${fencedGaps} gap event(s) dropped: another node owns the run now (its fence refused them)`);
    if (failure) throw (failure as { error: unknown }).error;
    stats.durationMs = performance.now() - t0;
    if (halt === 'lost') {
      stats.status = 'lost';
      return stats;
    }
    await sink.append([{ type: 'SessionCompleted', data: { sessionId: runId, samples: done, durationMs: Math.round(stats.durationMs) } }]);
    await deps.finish(runId, 'stopped', done, undefined, runStats(stats));
    stats.status = 'stopped';
    return stats;

    async function runTriggered(index: number, triggeredAt: number): Promise<void> {
      const requester: DeviceRequester = {
        request: async (deviceId, req, timeoutMs) => {
          const sentAt = now();
          const reply = await deviceRequester.request(deviceId, req, timeoutMs);
          if (req.stage !== 'scores') return reply;
          const timed = onServerClock(reply, sentAt, now());
          return matchCapture(timed.reply, triggeredAt, deps.captureToleranceMs, timed.clockOffsetMs);
        },
      };
      const sampleId = replay ? replay.sampleIds[index % replay.sampleIds.length] : `live-${index}`;
      const out = await runSample(plan, { index, sampleId, label: null }, requester, model.sections);
      for (const m of out.missDetails) {
        if (explained.has(m.deviceId)) continue;
        explained.add(m.deviceId);
        deps.log?.(`stream ${runId}: device ${m.deviceId} missed sample ${index}: ${m.detail}`);
      }
      stats.serverModelMs += out.timing.serverModelMs;
      stats.deviceModelMs += out.timing.deviceModelMs;
      stats.transportMs += out.timing.transportMs;
      const events: NewEvent[] = out.events.map((e) => (e.type === 'SampleStarted' ? { ...e, data: { ...e.data, triggeredAt } } : e));
      const tLog = performance.now();
      try {
        await sink.append(events);
      } catch (e) {
        // Another node runs the stream now (this node's lock connection ended while it ran on): the sample is
        // dropped, counted, and nothing more is triggered here.
        if (!(e instanceof FencedAppendError)) throw e;
        fenced++;
        halt ??= 'lost';
        return;
      }
      stats.loggingMs += performance.now() - tLog;
      stats.events += events.length;
      stats.samples++;
      done++;
      deps.onSampleLogged?.(index, triggeredAt, now() - triggeredAt);
      flushProgress();
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    stats.durationMs = performance.now() - t0;
    // Refused by the fence outside a sample (its start, its end): another node runs the stream; it is not this one's to end.
    if (e instanceof FencedAppendError) {
      stats.status = 'lost';
      return stats;
    }
    if (isDatabaseUnavailable(e)) {
      stats.status = 'interrupted';
      stats.error = message;
      (deps.warn ?? deps.log)?.(`stream ${runId} interrupted (it resumes when the database is back): ${message}`);
      return stats;
    }
    stats.status = 'failed';
    stats.error = message;
    (deps.warn ?? deps.log)?.(`stream ${runId} failed: ${message}`);
    await sink.append([{ type: 'SessionAborted', data: { sessionId: runId, reason: message, samplesDone: done } }]).catch(() => undefined);
    await deps.finish(runId, 'failed', done, message).catch(() => undefined);
    return stats;
  } finally {
    ended = true;
    clearInterval(poller);
    (unwatch as (() => void) | null)?.();
  }
}

export class StreamSpecError extends Error {}
