import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  ServiceUnavailableException,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type Repository } from 'typeorm';
import { type CameraKnobsView, type CreateSimulationRequest, isUuid, type SimulationView, type UpdateCameraKnobsRequest } from '@ddnn/contracts';
import { CAMERAS, FRAME_MS, PASSAGE_MS, sceneTruth, type MovingScene } from '@ddnn/datasets';
import { checkpointRuntimeBindings } from '@ddnn/ddnn';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { nodeId } from '../config/node-id';
import { DeviceEntity } from '../devices/device.entity';
import { DevicesService } from '../devices/devices.service';
import { DeviceTransportService } from '../devices/transport/device-transport.service';
import { ProfilesService } from '../profiles/profiles.service';
import { DeviceFleetThread } from './device-fleet-thread';
import { SceneCaptureSource, SceneFrameCache } from './scene-source';
import { SimulatedDevice, type SimulatedCapture } from './simulated-device';
import { SimulationReconciler, type SimulationRunner } from './simulation-reconciler';
import { SimulationRecords } from './simulation-records';

interface Simulation {
  view: SimulationView;
  devices: SimulatedDevice[];
  /** `scene` simulations: each camera's frame source (by view). */
  cameras: Map<number, SceneCaptureSource>;
  listeners: Set<(capture: SimulatedCapture) => void>;
  /** The thread the devices compute in (dataset replay); null: they compute in this thread (scene cameras). */
  thread: DeviceFleetThread | null;
  /** In the `simulations` table, its lock held by this node: started again after a restart (SimulationReconciler). */
  recorded: boolean;
  /** The devices its start enrolled (new rows), as opposed to idle rows it took. */
  enrolled: string[];
}

/** What a start is given besides the request. */
interface StartOptions {
  /** Device ids to serve the views with when they are free, in view order. */
  reuse?: string[];
  id?: string;
  recorded?: boolean;
  sessionId?: string | null;
}

/** Clean frames a scene simulation keeps: its whole period when it repeats (up to this many), else a few passages. */
const MAX_CACHED_FRAMES = 20_000;

const PROFILE = 'simulated';

/** Why a simulated device stops when an operator deleted its row (DevicesService wrote its disconnect already). */
const DELETED = 'deleted by an operator';

/**
 * Simulated devices: device rows like any other (provisioned through the same service, so DeviceRegistered
 * and the connectivity events are the same), attached to DeviceTransport as in-process endpoints. Keeping recorded
 * simulations across processes (their records' writes, their locks, the rounds) is SimulationReconciler's.
 */
@Injectable()
export class SimulationsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SimulationsService.name);
  private readonly simulations = new Map<string, Simulation>();
  /** One heartbeat for every simulated device of this node (null while there are none). */
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly node: string;

  constructor(
    private readonly devices: DevicesService,
    private readonly profiles: ProfilesService,
    private readonly transport: DeviceTransportService,
    /** Read here (which devices and runs are whose); written by the reconciler only. */
    private readonly records: SimulationRecords,
    private readonly reconciler: SimulationReconciler,
    @InjectRepository(DeviceEntity) private readonly rows: Repository<DeviceEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.node = nodeId(config);
    this.reconciler.serve(this.runner());
  }

  /**
   * Recorded simulations left by this node's last run (or by a node that died) start again, then
   * DDNN_SIMULATED_DEVICES simulated devices (0 by default: the demo session starts its own). A node looks for
   * simulations no node runs as often as for runs to pick up (DDNN_SESSION_POLL_MS).
   */
  async onApplicationBootstrap(): Promise<void> {
    // DDNN_SIMULATED_DEVICES' first: unrecorded, it finds its rows again only by taking the idle ones of its views,
    // which a recorded simulation replacing a deleted device would otherwise take (it cannot take theirs: `startNow`).
    if (this.config.DDNN_SIMULATED_DEVICES > 0) {
      const sim = await this.start({ devices: this.config.DDNN_SIMULATED_DEVICES, persist: true });
      this.logger.log(`${sim.devices.length} simulated devices connected (simulation ${sim.id})`);
    }
    await this.reconciler.open();
  }

  /**
   * Stops every simulation here, records kept (the next start, or another node, starts them again), then lets their
   * locks go. Nest runs this before the HTTP server closes: a request from now on is refused (503), not started.
   */
  async onModuleDestroy(): Promise<void> {
    await this.reconciler.drain();
    for (const id of [...this.simulations.keys()]) await this.halt(id);
    await this.reconciler.close();
  }

  /**
   * Starts simulated devices. `reuse`: device ids to serve the views with when they are free (in view order), so
   * a stream that outlives a restart gets its own devices back. `id`: a fixed id (the demo's, so that what it tells
   * operators to call still works after a restart). `record`: kept in the `simulations` table, so that it outlives
   * this process (POST /api/simulations); the demo's and DDNN_SIMULATED_DEVICES' start again by themselves at each boot.
   */
  async create(req: CreateSimulationRequest, opts: { reuse?: string[]; id?: string; record?: boolean } = {}): Promise<SimulationView> {
    if (req.source === 'scene' && req.devices > CAMERAS.length) throw new BadRequestException(`devices: the moving scene has ${CAMERAS.length} cameras, so a scene simulation has at most ${CAMERAS.length} devices`);
    if (req.scene && req.source !== 'scene') throw new BadRequestException('scene: only a simulation with source "scene" watches the moving scene');
    for (const f of req.failures ?? []) {
      if (f.device >= req.devices) throw new BadRequestException(`failure for device ${f.device}: the simulation has devices 0..${req.devices - 1}`);
    }
    if (this.reconciler.closing) throw shuttingDown();
    const id = opts.id ?? randomUUID();
    // A fresh id is in no round: only a given one waits for the round under way.
    return this.reconciler.exclusive(id, () => this.createNow(id, req, opts), opts.id !== undefined);
  }

  private async createNow(id: string, req: CreateSimulationRequest, opts: { reuse?: string[]; record?: boolean }): Promise<SimulationView> {
    if (this.reconciler.closing) throw shuttingDown();
    if (this.simulations.has(id)) throw new ConflictException(`simulation ${id} already runs on this node`);
    if (!opts.record) return this.start(req, { reuse: opts.reuse, id });
    const request = requestOf(req);
    return this.reconciler.create(
      id,
      request,
      () => this.start(request, { reuse: opts.reuse, id, recorded: true }),
      async () => {
        // Unrecorded, nothing would ever delete the rows it enrolled (the idle ones it took go back to being idle).
        const enrolled = this.simulations.get(id)?.enrolled ?? [];
        await this.halt(id);
        await this.removeDevices(enrolled, 'simulation could not be recorded');
      },
    );
  }

  list(): SimulationView[] {
    return [...this.simulations.values()].map((s) => s.view);
  }

  get(id: string): SimulationView {
    const s = this.simulations.get(id);
    if (!s) throw new NotFoundException(`no simulation ${id} on this node`);
    return s.view;
  }

  /** What GET /api/simulations answers: `list`, without the devices deleted since (`dropDeleted`). */
  async views(): Promise<SimulationView[]> {
    await this.dropDeleted([...this.simulations.values()]);
    return this.list();
  }

  /** What GET /api/simulations/:id answers: `get`, without the devices deleted since (`dropDeleted`). */
  async view(id: string): Promise<SimulationView> {
    const s = this.simulations.get(id);
    if (s) await this.dropDeleted([s]);
    return this.get(id);
  }

  /**
   * Takes out of `sims` the devices whose rows an operator deleted (DELETE /api/devices/:id) since, in one query: GET
   * answers what runs, whether or not the deletion stopped the device (see `dropDevices`).
   */
  private async dropDeleted(sims: Simulation[]): Promise<void> {
    const ids = sims.flatMap((s) => s.devices.map((d) => d.deviceId));
    if (ids.length === 0) return;
    const present = new Set((await this.rows.find({ select: { id: true }, where: { id: In(ids) } })).map((r) => r.id));
    for (const s of sims) this.dropDevices(s, new Set(s.devices.filter((d) => !present.has(d.deviceId)).map((d) => d.deviceId)));
  }

  /**
   * Deleted devices leave their simulation: stopped (a deleted device answers no run), no longer listed nor beaten for.
   * The others keep their index; a recorded simulation started again (a restart) replaces them, as any device deleted since.
   */
  private dropDevices(s: Simulation, gone: Set<string>): void {
    // Halted meanwhile (its devices stopped with it), or nothing deleted.
    if (gone.size === 0 || this.simulations.get(s.view.id) !== s) return;
    const dropped = s.devices.filter((d) => gone.has(d.deviceId));
    for (const d of dropped) d.stop(DELETED);
    s.devices = s.devices.filter((d) => !gone.has(d.deviceId));
    s.view = { ...s.view, devices: s.view.devices.filter((d) => !gone.has(d.deviceId)) };
    if (dropped.length) this.logger.log(`simulation ${s.view.id}: device${dropped.length > 1 ? 's' : ''} ${dropped.map((d) => d.name).join(', ')} deleted by an operator: stopped, no longer in it`);
  }

  /** Sets a scene camera's knobs (the others stay): its views degrade, or recover, from its next capture on. */
  setCameraKnobs(id: string, view: number, knobs: UpdateCameraKnobsRequest): SimulationView {
    const s = this.simulations.get(id);
    if (!s) throw new NotFoundException(`no simulation ${id} on this node`);
    if (s.view.source !== 'scene' || !s.view.scene) throw new ConflictException(`simulation ${id} replays a dataset: only a scene simulation's cameras have knobs`);
    const camera = s.cameras.get(view);
    if (!camera) throw new NotFoundException(`simulation ${id} has no camera ${view} (its cameras are ${[...s.cameras.keys()].join(', ')})`);
    const set = camera.setKnobs(knobs);
    this.logger.log(`simulation ${id} camera ${view}: noise ${set.noise}, occlusion ${set.occlusion}`);
    s.view = { ...s.view, scene: { ...s.view.scene, cameras: cameraKnobs(s.cameras) } };
    return s.view;
  }

  /** The truth of a scene simulation at a time (what its cameras were looking at): the class index. */
  sceneTruth(id: string, timeMs: number): number {
    const s = this.simulations.get(id);
    if (!s?.view.scene) throw new NotFoundException(`no scene simulation ${id} on this node`);
    return sceneTruth(s.view.scene, timeMs).label;
  }

  /**
   * Listens to the frames a simulation's devices capture and score (run, sample, camera, capture time): what a
   * labeller that knows the scene's truth needs. Returns the unsubscribe function.
   */
  onCapture(id: string, listener: (capture: SimulatedCapture) => void): () => void {
    const s = this.simulations.get(id);
    if (!s) throw new NotFoundException(`no simulation ${id} on this node`);
    s.listeners.add(listener);
    return () => s.listeners.delete(listener);
  }

  /** Ties the simulation to the session that uses its devices: it ends with that session (see `end`). */
  bindToSession(id: string, sessionId: string): void {
    const s = this.simulations.get(id);
    if (!s) throw new NotFoundException(`no simulation ${id} on this node`);
    s.view = { ...s.view, sessionId };
    // Not awaited (the caller is not async): a binding lost with a crash is found again at restart, from the runs
    // still using its devices (SimulationReconciler's `adopt`).
    if (s.recorded) this.reconciler.bind(id, sessionId).catch((e: Error) => this.logger.warn(`recording simulation ${id}'s session ${sessionId}: ${e.message}`));
  }

  /** Simulations waiting for a session to end. */
  boundToSessions(): { id: string; sessionId: string }[] {
    return [...this.simulations.values()].flatMap((s) => (s.view.sessionId ? [{ id: s.view.id, sessionId: s.view.sessionId }] : []));
  }

  /**
   * A session's simulation after the session ended. A persisted one is a service: it runs on, free for the next
   * session (stopping it left its devices disconnected, each firing "Device inactive" until deleted by hand). Any
   * other stops and its devices are deleted (their events stay in the log, and the session's SessionStarted keeps
   * their names), unless another queued or running run uses them: it is bound to that run then, and ends with it (the
   * rule a restart follows, SimulationReconciler's `adopt`). Its record goes last, so a crash midway leaves the rest to the next start.
   */
  async end(id: string): Promise<void> {
    await this.reconciler.exclusive(id, async () => {
      const s = this.simulations.get(id);
      if (!s) return;
      if (s.view.persist) {
        s.view = { ...s.view, sessionId: null };
        if (s.recorded) await this.reconciler.bind(id, null);
        return;
      }
      const deviceIds = s.view.devices.map((d) => d.deviceId);
      const [next] = await this.records.runsUsing({ sessionId: s.view.sessionId, deviceIds });
      if (next) {
        this.logger.log(`simulation ${id}: its session ${s.view.sessionId ?? '(none)'} ended, run ${next} still uses its devices: it ends with that run instead`);
        s.view = { ...s.view, sessionId: next };
        if (s.recorded) await this.reconciler.bind(id, next);
        return;
      }
      await this.halt(id);
      await this.removeDevices(deviceIds, 'simulation ended with its session');
      if (s.recorded) await this.reconciler.forget(id);
    });
  }

  /**
   * Stops a simulation for good (DELETE): its devices disconnect (DeviceDisconnected) and their rows stay; it is not
   * started again. One no node runs (its node died, and no node has started it again yet) is forgotten from any
   * node; one another node runs is a 409 naming that node.
   */
  async stop(id: string): Promise<void> {
    await this.reconciler.exclusive(id, async () => {
      const s = this.simulations.get(id);
      if (s) {
        await this.refuseWhileUsed(id, { sessionId: s.view.sessionId ?? null, deviceIds: s.view.devices.map((d) => d.deviceId) });
        await this.halt(id);
        if (s.recorded) await this.reconciler.forget(id);
        return;
      }
      const r = isUuid(id) ? await this.records.get(id) : null;
      if (!r) throw new NotFoundException(`no simulation ${id}`);
      await this.refuseWhileUsed(id, r);
      await this.reconciler.forgetUnrun(r);
    });
  }

  /**
   * A simulation a queued or running run uses is not stopped under it: the run would go on with every sample missed
   * (the review saw a stream run on, each sample unanswered, after a 204).
   */
  private async refuseWhileUsed(id: string, r: { sessionId: string | null; deviceIds: string[] }): Promise<void> {
    const runs = await this.records.runsUsing(r);
    if (runs.length) throw new ConflictException(`simulation ${id}: run${runs.length > 1 ? 's' : ''} ${runs.join(', ')} still use${runs.length > 1 ? '' : 's'} its devices: stop ${runs.length > 1 ? 'them' : 'it'} first`);
  }

  /** Stops a simulation here; its record stays. `quiet`: another node runs its devices now (or may), so nothing is written for them. */
  private async halt(id: string, quiet = false): Promise<void> {
    const s = this.simulations.get(id);
    if (!s) return;
    this.simulations.delete(id);
    if (this.simulations.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
    for (const d of s.devices) {
      const wasUp = !d.crashed;
      d.stop('simulation stopped');
      if (wasUp && !quiet) await this.devices.disconnected(d.deviceId, 'simulation stopped');
    }
    await s.thread?.terminate();
  }

  /** Deletes simulated devices (their events stay in the log) that nothing on this node drives. */
  private async removeDevices(ids: string[], reason: string): Promise<void> {
    for (const id of ids) {
      try {
        const row = await this.rows.findOneBy({ id });
        if (!row?.simulated || this.transport.endpoint(id)) continue;
        if (row.active) await this.devices.disconnected(id, reason);
        await this.devices.remove(id);
      } catch (e) {
        this.logger.warn(`deleting simulated device ${id}: ${(e as Error).message}`);
      }
    }
  }

  /** What SimulationReconciler drives: recorded simulations started and stopped here. */
  private runner(): SimulationRunner {
    return {
      recordedHere: () => [...this.simulations.values()].filter((s) => s.recorded).map((s) => s.view.id),
      runs: (id) => this.simulations.has(id),
      start: (request, opts) => this.start(request, { ...opts, recorded: true }),
      halt: (id, quiet) => this.halt(id, quiet),
      removeDevices: (ids, reason) => this.removeDevices(ids, reason),
    };
  }

  private starting: Promise<unknown> = Promise.resolve();

  /** One start at a time: two simulations starting together would pick the same free device rows. */
  private start(req: CreateSimulationRequest, opts: StartOptions = {}): Promise<SimulationView> {
    const next = this.starting.catch(() => undefined).then(() => this.startNow(req, opts));
    this.starting = next;
    return next;
  }

  private async startNow(req: CreateSimulationRequest, opts: StartOptions): Promise<SimulationView> {
    const id = opts.id ?? randomUUID();
    // Starts run one at a time: checked here, two starts of one id cannot both pass.
    if (this.simulations.has(id)) throw new ConflictException(`simulation ${id} already runs on this node`);
    const { key } = await this.profiles.ensureInternal(PROFILE, 'In-process simulated devices');
    const bindings = checkpointRuntimeBindings({ dataRoot: path.join(this.config.DDNN_DATA_DIR, 'datasets') });
    const reuse = opts.reuse ?? [];
    // Devices of recorded simulations (running on another node, or waiting to start again) are never taken as idle.
    const others = await this.records.devicesOfOthers(id);
    // Nor, by a recorded one, those a queued or running run names: the demo's cameras before the demo started at boot,
    // or a run's on another node. An unrecorded simulation has no record of its rows: those its runs name are how it
    // finds them again (the DDNN_SIMULATED_DEVICES' of a session resumed after a restart).
    const ofRuns = opts.recorded ? await this.records.devicesOfRuns() : new Set<string>();
    const enrolled: string[] = [];
    const devices: SimulatedDevice[] = [];
    const source = req.source ?? 'dataset';
    const scene: MovingScene | null = source === 'scene' ? { seed: req.scene?.seed ?? 1, ...(req.scene?.period ? { period: req.scene.period } : {}) } : null;
    const framesPerCamera = (scene?.period ?? 4) * (PASSAGE_MS / FRAME_MS);
    const cache = new SceneFrameCache(Math.min(MAX_CACHED_FRAMES, framesPerCamera * req.devices));
    const cameras = new Map<number, SceneCaptureSource>();
    // Replaying devices compute in a thread of their own (a scene's cameras share its frame cache and knobs with
    // this thread, so they stay here; so do all devices when the API runs from its sources, see `compiled`).
    const thread = scene || !DeviceFleetThread.compiled ? null : new DeviceFleetThread(path.join(this.config.DDNN_DATA_DIR, 'datasets'));
    const listeners = new Set<(capture: SimulatedCapture) => void>();
    const onCapture = (capture: SimulatedCapture) => {
      for (const l of listeners) {
        try {
          l(capture);
        } catch (e) {
          this.logger.error(`capture listener of simulation ${id}: ${(e as Error).message}`);
        }
      }
    };
    try {
      for (let i = 0; i < req.devices; i++) {
        // Reuse a simulated device of this view and source that nothing drives now, so restarts do not pile up rows
        // (scene cameras are named apart: a stream that resumes after a restart finds its cameras, not replayers).
        const prefix = `${source === 'scene' ? 'scene' : 'sim'}-${i}`;
        // The device asked for by id is taken whatever its name (an operator may have renamed it).
        const ofView = await this.rows.find({ where: { simulated: true, role: 'end-device', view: i, adminState: 'unlocked' }, order: { createdAt: 'ASC' } });
        const candidates = ofView.filter((c) => c.name === prefix || c.name.startsWith(`${prefix}-`));
        const idle = (rows: DeviceEntity[]) => rows.filter((c) => !this.transport.endpoint(c.id) && !others.has(c.id));
        const own = idle(ofView).find((c) => c.id === reuse[i]);
        // Another's row is idle only when no node drives it (marked connected elsewhere: another node's simulation).
        const free = own ?? idle(candidates).find((c) => !(c.active && c.node !== this.node) && !ofRuns.has(c.id));
        // Its own device still marked connected: the node that ran it died or lost its lock (a restart released this
        // node's rows already); its disconnect first, so its timeline reads right.
        if (own?.active) await this.devices.disconnected(own.id, own.node && own.node !== this.node ? `taken over from node ${own.node}` : 'simulation started again');
        const { deviceId, name } = free ? { deviceId: free.id, name: free.name } : await this.enrol(prefix, candidates.length > 0, key, i);
        if (!free) enrolled.push(deviceId);
        const capture = scene ? new SceneCaptureSource(scene, i, cache) : undefined;
        if (capture) cameras.set(i, capture);
        const device = new SimulatedDevice({
          deviceId,
          name,
          role: 'end-device',
          view: i,
          bindings,
          ...(thread ? { host: thread.host(deviceId, 'end-device', i) } : {}),
          failures: (req.failures ?? []).filter((f) => f.device === i),
          link: req.link ?? null,
          capture,
          onCapture,
        });
        this.transport.attach(device);
        await this.devices.connected(deviceId, null);
        void device.closed.then(async (reason) => {
          // Stopped with its simulation (which writes its disconnect), or taken out of it once deleted.
          if (reason === 'simulation stopped' || reason === DELETED) return;
          // Cut off as its row was deleted (the deletion wrote its disconnect): nothing more for its stream; out of its simulation.
          if (!(await this.rows.existsBy({ id: deviceId }))) {
            const s = this.simulations.get(id);
            if (s) this.dropDevices(s, new Set([deviceId]));
            return;
          }
          this.logger.warn(`simulated device ${name} stopped: ${reason}`);
          await this.devices.disconnected(deviceId, reason);
        }).catch((e: Error) => this.logger.warn(`simulated device ${name} stopped: its disconnect could not be written (${e.message})`));
        devices.push(device);
      }
    } catch (e) {
      // Devices already attached stay registered rows; the thread would only hold memory.
      for (const d of devices) d.stop('simulation failed to start');
      await thread?.terminate();
      throw e;
    }
    thread?.onExit((reason) => {
      this.logger.error(`simulation ${id}: ${reason}; its devices stop`);
      for (const d of devices) d.stop(reason);
    });
    const view: SimulationView = {
      id,
      devices: devices.map((d, index) => ({ deviceId: d.deviceId, name: d.name, role: d.role, view: d.view, index })),
      failures: req.failures ?? [],
      link: req.link ?? null,
      source,
      scene: scene ? { ...scene, cameras: cameraKnobs(cameras) } : null,
      persist: req.persist ?? false,
      sessionId: opts.sessionId ?? null,
      createdAt: new Date().toISOString(),
    };
    this.simulations.set(id, { view, devices, cameras, listeners, thread, recorded: opts.recorded ?? false, enrolled });
    this.heartbeat ??= this.startHeartbeat();
    return view;
  }

  /**
   * A new simulated device named `prefix`, or `prefix-<random>` when taken: names are unique in the registry, and a
   * locked simulated device or an operator's own device may hold the plain one.
   */
  private async enrol(prefix: string, taken: boolean, key: string, view: number): Promise<{ deviceId: string; name: string }> {
    for (let attempt = 0; ; attempt++) {
      const name = taken || attempt > 0 ? `${prefix}-${randomUUID().slice(0, 6)}` : prefix;
      try {
        const { deviceId } = await this.devices.provision({ name, profileKey: key, role: 'end-device', view, capabilities: { simulated: true } }, true);
        return { deviceId, name };
      } catch (e) {
        if (!(e instanceof ConflictException) || attempt >= 3) throw e;
      }
    }
  }

  /**
   * Keeps every live simulated device active, in one statement per interval: they live in this process, so
   * one beat for all says what a beat per device would, at a fraction of the database's work. At least three beats
   * per inactivity timeout: with a timeout shorter than the interval (3 s against 5 s), every simulated camera went
   * inactive and came back every beat, two events each time.
   */
  private startHeartbeat(): NodeJS.Timeout {
    const every = Math.min(this.config.DEVICE_HEARTBEAT_INTERVAL_MS, Math.floor(this.config.DEVICE_INACTIVE_TIMEOUT_MS / 3));
    const timer = setInterval(() => {
      const alive = [...this.simulations.values()].flatMap((s) => s.devices.filter((d) => !d.crashed).map((d) => d.deviceId));
      this.devices.activityOf(alive).catch((e: unknown) => this.logger.error(`heartbeat of ${alive.length} simulated devices: ${(e as Error).message}`));
    }, every);
    timer.unref();
    return timer;
  }
}

/** The request as recorded: what a start needs, nothing a client added. */
function requestOf(req: CreateSimulationRequest): CreateSimulationRequest {
  return {
    devices: req.devices,
    source: req.source ?? 'dataset',
    ...(req.scene ? { scene: { seed: req.scene.seed, ...(req.scene.period ? { period: req.scene.period } : {}) } } : {}),
    failures: (req.failures ?? []).map((f) => ({ device: f.device, atSample: f.atSample, kind: f.kind })),
    ...(req.link ? { link: { latencyMs: req.link.latencyMs, bandwidthKbps: req.link.bandwidthKbps } } : {}),
    persist: req.persist ?? false,
  };
}

function shuttingDown(): ServiceUnavailableException {
  return new ServiceUnavailableException('this node is shutting down: try another node, or again once it is back');
}

function cameraKnobs(cameras: Map<number, SceneCaptureSource>): CameraKnobsView[] {
  return [...cameras.entries()].map(([view, c]) => ({ view, ...c.knobs }));
}
