import { BadRequestException, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import type { CompareResponse, LinkModel, PolicySpec, SweepResult } from '@ddnn/contracts';
import {
  comparePolicies,
  fitBudgetPolicy,
  parseCompareRequest,
  parseLinkModel,
  parseSweepPolicy,
  sweep,
  type SessionSampleTable,
} from '@ddnn/policies';
import { AnalysisRepository } from './analysis.repository';

const MAX_POINTS = 2001;

/** Bad input from a pure library (zod, policy rules) becomes a 400 naming the problem. */
function badRequest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new BadRequestException((e as Error).message);
  }
}

/** Counterfactual comparisons and threshold sweeps of recorded sessions, from their events alone. */
@Injectable()
export class AnalysisService {
  constructor(private readonly repo: AnalysisRepository) {}

  /** A session's per-sample table; 404 when it has no events, 422 when they cannot be analysed. */
  async table(sessionId: string): Promise<SessionSampleTable> {
    const table = await this.repo.table(sessionId).catch((e: Error) => {
      throw new UnprocessableEntityException(`session ${sessionId} cannot be analysed: ${e.message}`);
    });
    if (!table) throw new NotFoundException(`no events for session ${sessionId}`);
    return table;
  }

  /** Events in a session's stream (0 = unknown session). */
  eventCount(sessionId: string): Promise<number> {
    return this.repo.streamVersion(sessionId);
  }

  /** One row per (session, policy), each session's rows marked on its accuracy-vs-bytes Pareto frontier. */
  async compare(body: unknown): Promise<CompareResponse> {
    const req = badRequest(() => parseCompareRequest(body));
    const tables = [];
    for (const id of new Set(req.sessionIds)) tables.push(await this.table(id));
    const fitOn = req.fitSessionId ? await this.table(req.fitSessionId) : null;
    const rows = tables.flatMap((table) => {
      const policies = req.policies.map((p) => this.fitted(p, fitOn ?? table));
      return comparePolicies([table], policies, req.linkModel);
    });
    return { rows };
  }

  /** Unfitted budget policies are fitted on `on` (another session, or in-sample on the one evaluated). */
  private fitted(policy: PolicySpec, on: SessionSampleTable): PolicySpec {
    if (policy.kind !== 'budget' || policy.fitted) return policy;
    return badRequest(() => fitBudgetPolicy(on, policy));
  }

  /** The threshold curve of one statistic over `points` thresholds in [0, 1]. */
  async sweep(q: { sessionId?: string; policy?: string; points?: string; linkModel?: string }): Promise<SweepResult> {
    const { sessionId, policy, linkModel: linkJson } = q;
    if (!sessionId) throw new BadRequestException('sessionId is required');
    if (!policy) throw new BadRequestException('policy is required: entropy, confidence, margin or a threshold policy JSON');
    const { statistic, edgeThreshold } = badRequest(() => parseSweepPolicy(policy));
    const points = q.points === undefined ? 100 : Number(q.points);
    if (!Number.isInteger(points) || points < 2 || points > MAX_POINTS) {
      throw new BadRequestException(`points must be an integer from 2 to ${MAX_POINTS}, got ${q.points}`);
    }
    let linkModel: LinkModel | undefined;
    if (linkJson !== undefined) {
      linkModel = badRequest(() => {
        let json: unknown;
        try {
          json = JSON.parse(linkJson);
        } catch {
          throw new Error('linkModel is not JSON');
        }
        return parseLinkModel(json);
      });
    }
    const table = await this.table(sessionId);
    return sweep(table, statistic, points, { edgeThreshold, linkModel });
  }
}
