import { BadRequestException, Injectable } from '@nestjs/common';
import type { CreateSessionRequest, SessionEventsPage, SessionList, SessionStatus, SessionSummary, SessionView } from '@ddnn/contracts';
import { sessionSummariesByIds } from '@ddnn/events';
import { Database } from '../database/database';
import { DevicesService } from '../devices/devices.service';
import { DatasetCatalog } from '../orchestrator/dataset-catalog';
import { ModelCatalog } from '../orchestrator/model-catalog';
import { SessionEventLog } from '../orchestrator/session-event-log';
import { SessionScheduler } from '../orchestrator/session-scheduler';
import { specProblem } from '../orchestrator/session-runner';
import { SessionStore } from '../orchestrator/session-store';

/** Sessions as operators see them: create, list, inspect, stop, and read their events. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly store: SessionStore,
    private readonly log: SessionEventLog,
    private readonly models: ModelCatalog,
    private readonly datasets: DatasetCatalog,
    private readonly scheduler: SessionScheduler,
    private readonly db: Database,
    private readonly devices: DevicesService,
  ) {}

  /** Validates what can be checked up front (model, dataset, views), queues the session and wakes the scheduler. */
  async create(spec: CreateSessionRequest, opts: { demo?: boolean } = {}): Promise<{ id: string } | null> {
    const problem = await this.problemWith(spec);
    if (problem) throw new BadRequestException(problem);
    const id = await this.store.create(spec, opts);
    if (id) this.scheduler.wake();
    return id ? { id } : null;
  }

  private async problemWith(spec: CreateSessionRequest): Promise<string | null> {
    const model = await this.models.describe(spec.modelId).catch((e: Error) => e);
    if (model instanceof Error) return model.message;
    const data = await this.datasets.describe(spec.dataset).catch((e: Error) => e);
    if (data instanceof Error) return data.message;
    const samples = Math.min(data.splits[spec.split], spec.limit ?? Infinity);
    const problem = specProblem(spec, model, { classes: data.classes, samples });
    if (problem) return problem;
    const named = [...spec.topology.devices.map((d) => d.deviceId), ...(spec.topology.edges ?? []).flatMap((e) => (e.deviceId === null ? [] : [e.deviceId]))];
    const unknown = await this.devices.unregistered(named);
    return unknown.length ? `topology: no registered device ${unknown.join(', ')}` : null;
  }

  /**
   * A page of sessions with their summaries from the session_summaries projection: one query for the page,
   * no fold per row. The projection lags the log by at most its subscription's wake-up (NOTIFY, or the 1 s
   * poll); a session it has not seen yet has summary null. One session (get) is folded to the head of the log.
   */
  async list(q: { status?: SessionStatus; limit: number; offset: number }): Promise<SessionList> {
    const { items, total } = await this.store.list(q);
    const summaries = await sessionSummariesByIds(this.db.pool, items.map((v) => v.id));
    return { items: items.map((v) => withSummary(v, summaries.get(v.id) ?? null)), total, limit: q.limit, offset: q.offset };
  }

  async get(id: string): Promise<SessionView | null> {
    const view = await this.store.get(id);
    if (!view) return null;
    return withSummary(view, await this.log.summary(id));
  }

  async stop(id: string): Promise<SessionView | null> {
    const status = await this.store.requestStop(id);
    if (status === null) return null;
    return this.get(id);
  }

  async events(id: string, after: string | undefined, limit: number): Promise<SessionEventsPage | null> {
    if (!(await this.store.get(id))) return null;
    return this.log.page(id, after, limit);
  }
}

/**
 * Progress is the log's count: samples done is the summary's SampleStarted count (each sample is logged whole).
 * The runner's counter in the sessions table is only a floor for the moments the fold is held back (the xid8
 * rule waits for older transactions) or the projection has not seen the session: it is written after the
 * samples' commit, so it never runs ahead of the log.
 */
function withSummary(view: SessionView, summary: SessionSummary | null): SessionView {
  return { ...view, samplesDone: Math.max(summary?.samplesStarted ?? 0, view.samplesDone), summary };
}
