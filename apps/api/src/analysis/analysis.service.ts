import { Injectable } from '@nestjs/common';
import {
  type CompareResponse,
  InvalidInputError,
  type LinkModel,
  MAX_SWEEP_POINTS,
  NotFoundError,
  type PolicySpec,
  type SampleWindow,
  type SweepResult,
  UnprocessableError,
} from '@ddnn/contracts';
import {
  comparePolicies,
  fitBudgetPolicy,
  parseCompareRequest,
  parseLinkModel,
  parseSampleWindow,
  parseSweepPolicy,
  sweep,
  type SessionSampleTable,
} from '@ddnn/policies';
import { AnalysisRepository } from './analysis.repository';


/** Counterfactual comparisons and threshold sweeps of recorded sessions, from their events alone. */
@Injectable()
export class AnalysisService {
  constructor(private readonly repo: AnalysisRepository) {}

  /** A session's per-sample table; 404 when it has no events, 422 when they cannot be analysed. */
  async table(sessionId: string): Promise<SessionSampleTable> {
    const table = await this.repo.table(sessionId).catch((e: Error) => {
      throw new UnprocessableError(`session ${sessionId} cannot be analysed: ${e.message}`);
    });
    if (!table) throw new NotFoundError(`no events for session ${sessionId}`);
    return table;
  }

  /** Which log a run is in: a session's, a stream's, or neither (null). */
  runKind(runId: string): Promise<'session' | 'stream' | null> {
    return this.repo.runKind(runId);
  }

  /**
   * The table compare evaluates for a run: with a window, only the samples in it (the rule for streams, which
   * have no end and so must name one); without, a session whole. 404 for an unknown run.
   */
  async runTable(runId: string, window: SampleWindow | undefined): Promise<SessionSampleTable> {
    const kind = await this.repo.runKind(runId);
    if (!kind) throw new NotFoundError(`no events for run ${runId}`);
    if (!window) {
      if (kind === 'stream') throw new InvalidInputError(`run ${runId} is a stream: name a window of its samples (windows.${runId} = {fromSample, toSample})`);
      return this.table(runId);
    }
    const table = await this.repo.windowTable(runId, kind, window).catch((e: Error) => {
      throw new UnprocessableError(`run ${runId} cannot be analysed: ${e.message}`);
    });
    if (!table) throw new UnprocessableError(`run ${runId} has no start event: it cannot be analysed`);
    if (table.n === 0) throw new UnprocessableError(`run ${runId} decided no sample in ${window.fromSample}..${window.toSample}`);
    return table;
  }

  /** One row per (session, policy), each session's rows marked on its accuracy-vs-bytes Pareto frontier. */
  async compare(body: unknown): Promise<CompareResponse> {
    // The DTO checked the shape; the library checks each policy's rules (InvalidInputError names them).
    const req = parseCompareRequest(body);
    const windows = req.windows ?? {};
    const stray = Object.keys(windows).filter((id) => !req.sessionIds.includes(id) && id !== req.fitSessionId);
    if (stray.length) throw new InvalidInputError(`windows name runs the request does not: ${stray.join(', ')}`);
    const tables = [];
    for (const id of new Set(req.sessionIds)) tables.push(await this.runTable(id, windows[id]));
    const fitOn = req.fitSessionId ? await this.runTable(req.fitSessionId, windows[req.fitSessionId]) : null;
    const rows = tables.flatMap((table) => {
      const policies = req.policies.map((p) => this.fitted(p, fitOn ?? table));
      return comparePolicies([table], policies, req.linkModel);
    });
    return { rows };
  }

  /** Unfitted budget policies are fitted on `on` (another session, or in-sample on the one evaluated). */
  private fitted(policy: PolicySpec, on: SessionSampleTable): PolicySpec {
    if (policy.kind !== 'budget' || policy.fitted) return policy;
    return fitBudgetPolicy(on, policy);
  }

  /** The threshold curve of one statistic over `points` thresholds in [0, 1], on a run whole or on a window of its samples. */
  async sweep(q: { sessionId?: string; policy?: string; points?: string; linkModel?: string; fromSample?: string; toSample?: string }): Promise<SweepResult> {
    const { sessionId, policy, linkModel: linkJson } = q;
    if (!sessionId) throw new InvalidInputError('query.sessionId is required');
    if (!policy) throw new InvalidInputError('query.policy is required: entropy, confidence, margin or a threshold policy JSON');
    const { statistic, edgeThreshold } = parseSweepPolicy(policy);
    const points = q.points === undefined ? 100 : Number(q.points);
    if (!Number.isInteger(points) || points < 2 || points > MAX_SWEEP_POINTS) {
      throw new InvalidInputError(`query.points must be an integer from 2 to ${MAX_SWEEP_POINTS}, got ${q.points}`);
    }
    let linkModel: LinkModel | undefined;
    if (linkJson !== undefined) {
      let json: unknown;
      try {
        json = JSON.parse(linkJson);
      } catch {
        throw new InvalidInputError('query.linkModel is not JSON');
      }
      linkModel = parseLinkModel(json);
    }
    const table = await this.runTable(sessionId, sweepWindow(q.fromSample, q.toSample));
    return sweep(table, statistic, points, { edgeThreshold, linkModel });
  }
}

/** The sweep's window from its query: both bounds or neither, each a non-negative integer (the compare rule). */
function sweepWindow(from: string | undefined, to: string | undefined): SampleWindow | undefined {
  if (from === undefined && to === undefined) return undefined;
  if (from === undefined || to === undefined) throw new InvalidInputError('query.fromSample and query.toSample go together');
  const index = (s: string) => (/^\d{1,10}$/.test(s) ? Number(s) : Number.NaN);
  return parseSampleWindow({ fromSample: index(from), toSample: index(to) }, `window query.fromSample=${from.slice(0, 20)}&toSample=${to.slice(0, 20)}`);
}
