import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type {
  CreateSessionRequest,
  CreateStreamRequest,
  SessionConfiguration,
  SessionEventsPage,
  SessionList,
  SessionListQuery,
  SessionSpec,
  SessionSummary,
  SessionView,
  SimulationView,
  UpdateSessionRequest,
} from '@ddnn/contracts';
import { sessionSummariesByIds } from '@ddnn/events';
import { Database } from '../database/database';
import { DevicesService } from '../devices/devices.service';
import { RunsInUseRepository } from '../models/runs-in-use.repository';
import { DatasetCatalog } from '../orchestrator/dataset-catalog';
import { ModelCatalog } from '../orchestrator/model-catalog';
import { SessionEventLog } from '../orchestrator/session-event-log';
import { SessionScheduler } from '../orchestrator/session-scheduler';
import { specProblem } from '../orchestrator/session-runner';
import { SessionStore } from '../orchestrator/session-store';
import { SimulationsService } from '../simulations/simulations.service';
import { POLICY } from './session.dto';
import { type RunMetadata, SessionRunsRepository } from './session-runs.repository';

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
    private readonly runs: SessionRunsRepository,
    private readonly devices: DevicesService,
    private readonly simulations: SimulationsService,
    private readonly runsInUse: RunsInUseRepository,
  ) {}

  /**
   * Validates what can be checked up front (model, dataset, views, registered devices), records the whole
   * configuration with the request (device names, link model, injected failures), queues the session and
   * wakes the scheduler.
   */
  async create(spec: CreateSessionRequest, opts: { demo?: boolean } = {}): Promise<{ id: string } | null> {
    const problem = await this.problemWith(spec);
    if (problem) throw new BadRequestException(problem);
    await this.refuseBusyDevices(spec);
    const configuration = await this.configurationOf(spec);
    const stored: SessionSpec = { ...spec, configuration };
    const id = await this.store.create(stored, opts);
    if (!id) return null;
    await this.launch(id, spec);
    return { id };
  }

  /** A queued run (session or stream): its name, tags and note, its simulation bound to it, the scheduler woken. */
  async launch(id: string, spec: Pick<CreateSessionRequest, 'name' | 'tags' | 'note' | 'simulationId'>): Promise<void> {
    if (spec.name !== undefined || spec.tags !== undefined || spec.note !== undefined) await this.runs.update(id, { name: spec.name, tags: spec.tags, note: spec.note });
    if (spec.simulationId) this.simulations.bindToSession(spec.simulationId, id);
    this.scheduler.wake();
  }

  /**
   * A new run (session or stream) may not take a device from a queued or running run that computes another section
   * on it (409): starting it would install its own section under the other run, which would go on logging its own
   * model's name. Runs of one model sharing a device's section are fine.
   */
  async refuseBusyDevices(spec: Pick<CreateSessionRequest, 'topology' | 'modelId'>): Promise<void> {
    const busy = await this.runsInUse.topologyConflict(spec.topology, spec.modelId);
    if (busy) throw new ConflictException(busy);
  }

  /**
   * What only a new run is refused for (a run queued before the rule existed still resumes): the devices a topology
   * names (end devices and edge hosts) that are not registered, an edge threshold on a topology without edges.
   */
  async newRunProblem(spec: Pick<CreateSessionRequest, 'topology' | 'policy'>): Promise<string | null> {
    if (!(spec.topology.edges ?? []).length && spec.policy.thresholds.edge !== undefined) {
      return 'policy.thresholds.edge is given, but the topology has no edges (it would never be used)';
    }
    return this.unregisteredProblem(spec.topology);
  }

  /**
   * A stream without `replay` captures from its devices' own sources: simulated cameras of a `dataset` simulation
   * have none, so every sample of it failed (each device answering that it cannot read a dataset). Null when none.
   */
  liveSourceProblem(spec: Pick<CreateStreamRequest, 'topology' | 'replay'>): string | null {
    if (spec.replay) return null;
    const named = new Set(spec.topology.devices.map((d) => d.deviceId));
    for (const sim of this.simulations.list()) {
      if (sim.source !== 'dataset') continue;
      const mine = sim.devices.filter((d) => named.has(d.deviceId)).map((d) => d.name);
      if (mine.length) {
        return `replay: ${mine.join(', ')} are simulated cameras of simulation ${sim.id}, which replays a dataset and has no live source: give replay {dataset, split}, or use a scene simulation`;
      }
    }
    return null;
  }

  /** The devices a topology names (end devices and edge hosts) that are not registered, as a problem, or null. */
  private async unregisteredProblem(topology: CreateSessionRequest['topology']): Promise<string | null> {
    const named = [...topology.devices.map((d) => d.deviceId), ...(topology.edges ?? []).flatMap((e) => (e.deviceId === null ? [] : [e.deviceId]))];
    const unknown = await this.devices.unregistered(named);
    return unknown.length ? `topology: no registered device ${unknown.join(', ')}` : null;
  }

  private async problemWith(spec: CreateSessionRequest): Promise<string | null> {
    const model = await this.models.describe(spec.modelId).catch((e: Error) => e);
    if (model instanceof Error) return model.message;
    const data = await this.datasets.describe(spec.dataset).catch((e: Error) => e);
    if (data instanceof Error) return data.message;
    const samples = Math.min(data.splits[spec.split], spec.limit ?? Infinity);
    const problem = specProblem(spec, model, { classes: data.classes, samples });
    if (problem) return problem;
    if (spec.simulationId && this.simulations.list().some((s) => s.id === spec.simulationId && s.source === 'scene')) {
      return `simulationId: simulation ${spec.simulationId} watches the moving scene, and a session replays a dataset (run a stream on it instead)`;
    }
    return this.newRunProblem(spec);
  }

  /** The configuration recorded with a run (session or stream): device names, and a simulation's link and failures. */
  async configurationOf(spec: Pick<CreateSessionRequest, 'topology' | 'simulationId' | 'limit' | 'rate'>): Promise<SessionConfiguration> {
    let sim: SimulationView | null = null;
    if (spec.simulationId) {
      try {
        sim = this.simulations.get(spec.simulationId);
      } catch {
        throw new BadRequestException(`simulationId: no simulation ${spec.simulationId} on this node`);
      }
      if (sim.sessionId) throw new BadRequestException(`simulationId: simulation ${spec.simulationId} already serves session ${sim.sessionId}`);
    }
    const ids = [...spec.topology.devices.map((d) => d.deviceId), ...(spec.topology.edges ?? []).flatMap((e) => (e.deviceId ? [e.deviceId] : []))];
    const devices = [];
    for (const deviceId of ids) {
      const d = await this.devices.get(deviceId).catch(() => null);
      if (!d) throw new BadRequestException(`topology: device ${deviceId} is not registered`);
      devices.push({ deviceId, name: d.name, simulated: d.simulated });
    }
    return { limit: spec.limit ?? null, rate: spec.rate ?? null, devices, link: sim?.link ?? null, failures: sim?.failures ?? [] };
  }

  /**
   * A page of sessions (filtered by the runs' metadata and spec) with their summaries from the
   * session_summaries projection: one query for the page's summaries, no fold per row. The projection lags the
   * log by at most its subscription's wake-up (NOTIFY, or the 1 s poll); a session it has not seen yet has
   * summary null. One session (get) is folded to the head of the log.
   */
  async list(q: SessionListQuery & { limit: number; offset: number }): Promise<SessionList> {
    const m = q.policy ? POLICY.exec(q.policy) : null;
    const { ids, total } = await this.runs.list(q, m ? { local: Number(m[1]), edge: m[2] === undefined ? null : Number(m[2]) } : null);
    const [views, meta, summaries] = await Promise.all([
      Promise.all(ids.map((id) => this.store.get(id))),
      this.runs.many(ids),
      sessionSummariesByIds(this.db.pool, ids),
    ]);
    const items = views.filter((v): v is SessionView => v !== null);
    return { items: items.map((v) => withRun(withSummary(v, summaries.get(v.id) ?? null), meta.get(v.id))), total, limit: q.limit, offset: q.offset };
  }

  async get(id: string): Promise<SessionView | null> {
    const view = await this.store.get(id);
    if (!view) return null;
    // An ended session's summary holds all of it (the fold waits for its last commits to be readable).
    return withRun(withSummary(view, await this.log.summary(id, SessionStore.isFinal(view.status))), await this.runs.get(id));
  }

  /** Renames, retags or annotates a run. */
  async update(id: string, patch: UpdateSessionRequest): Promise<SessionView> {
    const view = await this.store.get(id);
    if (!view) throw new NotFoundException(`no session ${id}`);
    // RunDeleted records the name as the deletion read it; an edit now would only be lost.
    if (view.deletingSince) throw new ConflictException(`session ${id} is being deleted (since ${view.deletingSince})`);
    await this.runs.update(id, patch);
    return (await this.get(id))!;
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
export function withSummary<V extends Pick<SessionView, 'samplesDone' | 'summary'>>(view: V, summary: SessionSummary | null): V {
  return { ...view, samplesDone: Math.max(summary?.samplesStarted ?? 0, view.samplesDone), summary };
}

export function withRun<V extends Pick<SessionView, 'name' | 'tags' | 'note'>>(v: V, run: RunMetadata | undefined): V {
  return { ...v, name: run?.name ?? '', tags: run?.tags ?? [], note: run?.note ?? '' };
}
