import type { PolicySpec, SessionView, StreamView, ThresholdStatistic } from '@ddnn/contracts';
import { allSessionEvents, api, ApiError } from './api';
import { deviceSide, linkModelOf, type PickedRun, type Row, type SessionAnalysis } from './compare';
import { shortId } from './format';

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
 * One run through the API: its compare rows (one Pareto rule, per run), its threshold sweep, both on its window
 * when it has one and with the latency its recorded link implies, and for a whole session its device side.
 */
export async function analyseRun(run: PickedRun, policies: PolicySpec[], statistic: ThresholdStatistic): Promise<{ analysis: SessionAnalysis; rows: Row[] }> {
  const { kind, view } = await viewOf(run);
  const link = view.configuration?.link ?? null;
  const linkModel = linkModelOf(link);
  const window = run.window ?? undefined;
  const [compared, sweep, events] = await Promise.all([
    api.compare({ sessionIds: [run.id], policies, ...(linkModel ? { linkModel } : {}), ...(window ? { windows: { [run.id]: window } } : {}) }),
    api.sweep(run.id, statistic, 21, linkModel, window),
    kind === 'session' && !window ? allSessionEvents(run.id) : Promise.resolve(null),
  ]);
  const rows = compared.rows as Row[];
  const device = events ? deviceSide(events) : null;
  const evaluated = rows.find((r) => r.evaluable);
  const analysis: SessionAnalysis = {
    sessionId: run.id,
    kind,
    window: run.window,
    name: `${view.name || shortId(run.id)}${run.window ? ` · samples ${run.window.fromSample}–${run.window.toSample}` : ''}`,
    runName: view.name || undefined,
    samples: device?.samples ?? (evaluated?.evaluable ? evaluated.samples : 0),
    hasEdge: (view.topology.edges?.length ?? 0) > 0,
    sweep,
    devices: device?.devices ?? null,
    samplesWithMisses: device?.samplesWithMisses ?? null,
    link,
  };
  return { analysis, rows };
}
