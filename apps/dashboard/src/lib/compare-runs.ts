import type { PolicySpec, SessionView, StoredEvent, StreamView, ThresholdStatistic } from '@ddnn/contracts';
import { allSessionEvents, api, ApiError, streamSampleEvents } from './api';
import { deviceSide, inSampleWindow, linkModelOf, type PickedRun, type Row, type SessionAnalysis } from './compare';
import { namesFromConfiguration } from './device-names';
import { fmtTime, shortId } from './format';

/** A windowed run is a stream's, or else a session's window; a whole run is a session. */
async function viewOf(run: PickedRun): Promise<{ kind: 'session'; view: SessionView } | { kind: 'stream'; view: StreamView }> {
  if (run.window) {
    const stream = await api.stream(run.id).catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    });
    if (stream) return { kind: 'stream', view: stream };
  }
  return { kind: 'session', view: await api.session(run.id) };
}

/**
 * How long before the window's first decision its samples may have started: a sample is triggered, waits for its
 * devices up to the deadline, then for the tiers above; twice the deadline and ten seconds is ample.
 */
const startSlackMs = (deadlineMs: number) => 2 * deadlineMs + 10_000;

/** The events the device side reads: a session's whole log, or a stream's window of samples from a moment before it began. */
async function deviceEvents(run: PickedRun, kind: 'session' | 'stream', view: SessionView | StreamView): Promise<{ events: StoredEvent[]; partial: string | null }> {
  if (kind === 'session' || !run.window) return { events: await allSessionEvents(run.id), partial: null };
  const window = run.window;
  const since = run.since === null || run.since === undefined ? undefined : new Date(Math.max(0, run.since - startSlackMs(view.deadlineMs))).toISOString();
  const read = await streamSampleEvents(run.id, since, (e) => inSampleWindow(e, window));
  return {
    events: read.events,
    partial: read.truncated ? `the stream's log was read up to ${read.readTo ? fmtTime(read.readTo) : 'its start'} only (labels posted later are not counted)` : null,
  };
}

/**
 * One run through the API: its compare rows (one Pareto rule, per run), its threshold sweep, both on its window
 * when it has one and with the latency its recorded link implies; and its device side from its log, on the same
 * samples.
 */
export async function analyseRun(run: PickedRun, policies: PolicySpec[], statistic: ThresholdStatistic): Promise<{ analysis: SessionAnalysis; rows: Row[] }> {
  const { kind, view } = await viewOf(run);
  const link = view.configuration?.link ?? null;
  const linkModel = linkModelOf(link);
  const window = run.window ?? undefined;
  const [compared, sweep, read] = await Promise.all([
    api.compare({ sessionIds: [run.id], policies, ...(linkModel ? { linkModel } : {}), ...(window ? { windows: { [run.id]: window } } : {}) }),
    api.sweep(run.id, statistic, 21, linkModel, window),
    deviceEvents(run, kind, view),
  ]);
  const rows = compared.rows as Row[];
  const device = deviceSide(run.id, read.events, run.window);
  const evaluated = rows.find((r) => r.evaluable);
  // The run's finished samples: those a row answers and those it leaves without an answer.
  const samples = evaluated?.evaluable ? evaluated.samples + evaluated.unanswered : device.samples;
  // The API reads a window's samples by index; the device side finds them in the log by time: say when it found fewer.
  const missing = device.samples < samples ? `the device side found ${device.samples} of the ${samples} samples in the stream's log (read from a moment before the window)` : null;
  const analysis: SessionAnalysis = {
    sessionId: run.id,
    kind,
    window: run.window,
    name: `${view.name || shortId(run.id)}${run.window ? ` · samples ${run.window.fromSample}–${run.window.toSample}` : ''}`,
    runName: view.name || undefined,
    samples,
    hasEdge: (view.topology.edges?.length ?? 0) > 0,
    sweep,
    devices: device.devices,
    samplesWithMisses: device.samplesWithMisses,
    samplesNotCaptured: device.samplesNotCaptured,
    deviceNames: namesFromConfiguration(view.configuration),
    deviceNote: [missing, read.partial].filter(Boolean).join('; ') || null,
    link,
  };
  return { analysis, rows };
}
