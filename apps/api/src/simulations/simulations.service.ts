import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { CameraKnobsView, CreateSimulationRequest, SimulationView, UpdateCameraKnobsRequest } from '@ddnn/contracts';
import { CAMERAS, FRAME_MS, PASSAGE_MS, sceneTruth, type MovingScene } from '@ddnn/datasets';
import { checkpointRuntimeBindings } from '@ddnn/ddnn';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DeviceEntity } from '../devices/device.entity';
import { DevicesService } from '../devices/devices.service';
import { DeviceTransportService } from '../devices/transport/device-transport.service';
import { ProfilesService } from '../profiles/profiles.service';
import { DeviceFleetThread } from './device-fleet-thread';
import { SceneCaptureSource, SceneFrameCache } from './scene-source';
import { SimulatedDevice, type SimulatedCapture } from './simulated-device';

interface Simulation {
  view: SimulationView;
  devices: SimulatedDevice[];
  /** `scene` simulations: each camera's frame source (by view). */
  cameras: Map<number, SceneCaptureSource>;
  listeners: Set<(capture: SimulatedCapture) => void>;
  /** The thread the devices compute in (dataset replay); null: they compute in this thread (scene cameras). */
  thread: DeviceFleetThread | null;
}

/** Clean frames a scene simulation keeps: its whole period when it repeats (up to this many), else a few passages. */
const MAX_CACHED_FRAMES = 20_000;

const PROFILE = 'simulated';

/**
 * Simulated devices: device rows like any other (provisioned through the same service, so DeviceRegistered
 * and the connectivity events are the same), attached to DeviceTransport as in-process endpoints.
 */
@Injectable()
export class SimulationsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SimulationsService.name);
  private readonly simulations = new Map<string, Simulation>();
  /** One heartbeat for every simulated device of this node (null while there are none). */
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly devices: DevicesService,
    private readonly profiles: ProfilesService,
    private readonly transport: DeviceTransportService,
    @InjectRepository(DeviceEntity) private readonly rows: Repository<DeviceEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** DDNN_SIMULATED_DEVICES simulated devices at start-up (0 by default: the demo session starts its own). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.DDNN_SIMULATED_DEVICES > 0) {
      const sim = await this.start({ devices: this.config.DDNN_SIMULATED_DEVICES, persist: true });
      this.logger.log(`${sim.devices.length} simulated devices connected (simulation ${sim.id})`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    for (const id of [...this.simulations.keys()]) await this.stop(id);
  }

  /**
   * Starts simulated devices. `reuse`: device ids to serve the views with when they are free (in view order), so
   * a stream that outlives a restart gets its own devices back.
   */
  /** `id`: a fixed id (the demo's, so that what it tells operators to call still works after a restart). */
  create(req: CreateSimulationRequest, opts: { reuse?: string[]; id?: string } = {}): Promise<SimulationView> {
    if (opts.id !== undefined && this.simulations.has(opts.id)) throw new ConflictException(`simulation ${opts.id} already runs on this node`);
    if (req.source === 'scene' && req.devices > CAMERAS.length) throw new BadRequestException(`devices: the moving scene has ${CAMERAS.length} cameras, so a scene simulation has at most ${CAMERAS.length} devices`);
    if (req.scene && req.source !== 'scene') throw new BadRequestException('scene: only a simulation with source "scene" watches the moving scene');
    for (const f of req.failures ?? []) {
      if (f.device >= req.devices) throw new BadRequestException(`failure for device ${f.device}: the simulation has devices 0..${req.devices - 1}`);
    }
    return this.start(req, opts.reuse ?? [], opts.id);
  }

  list(): SimulationView[] {
    return [...this.simulations.values()].map((s) => s.view);
  }

  get(id: string): SimulationView {
    const s = this.simulations.get(id);
    if (!s) throw new NotFoundException(`no simulation ${id} on this node`);
    return s.view;
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
    this.simulations.set(id, s);
  }

  /** Simulations waiting for a session to end. */
  boundToSessions(): { id: string; sessionId: string }[] {
    return [...this.simulations.values()].flatMap((s) => (s.view.sessionId ? [{ id: s.view.id, sessionId: s.view.sessionId }] : []));
  }

  /**
   * A session's simulation after the session ended: stops it and, unless it was asked to persist, deletes its
   * devices (their events stay in the log, and the session's SessionStarted keeps their names).
   */
  async end(id: string): Promise<void> {
    const s = this.simulations.get(id);
    if (!s) return;
    await this.stop(id);
    if (s.view.persist) return;
    for (const d of s.view.devices) await this.devices.remove(d.deviceId).catch((e: Error) => this.logger.warn(`deleting simulated device ${d.name}: ${e.message}`));
  }

  /** Stops a simulation: its devices disconnect (DeviceDisconnected). */
  async stop(id: string): Promise<void> {
    const s = this.simulations.get(id);
    if (!s) throw new NotFoundException(`no simulation ${id} on this node`);
    this.simulations.delete(id);
    if (this.simulations.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
    for (const d of s.devices) {
      const wasUp = !d.crashed;
      d.stop('simulation stopped');
      if (wasUp) await this.devices.disconnected(d.deviceId, 'simulation stopped');
    }
    await s.thread?.terminate();
  }

  private starting: Promise<unknown> = Promise.resolve();

  /** One start at a time: two simulations starting together would pick the same free device rows. */
  private start(req: CreateSimulationRequest, reuse: string[] = [], id?: string): Promise<SimulationView> {
    const next = this.starting.catch(() => undefined).then(() => this.startNow(req, reuse, id));
    this.starting = next;
    return next;
  }

  private async startNow(req: CreateSimulationRequest, reuse: string[], fixedId?: string): Promise<SimulationView> {
    const { key } = await this.profiles.ensureInternal(PROFILE, 'In-process simulated devices');
    const bindings = checkpointRuntimeBindings({ dataRoot: path.join(this.config.DDNN_DATA_DIR, 'datasets') });
    const id = fixedId ?? randomUUID();
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
        const candidates = (await this.rows.find({ where: { simulated: true, role: 'end-device', view: i, adminState: 'unlocked' }, order: { createdAt: 'ASC' } })).filter(
          (c) => c.name === prefix || c.name.startsWith(`${prefix}-`),
        );
        const idle = candidates.filter((c) => !this.transport.endpoint(c.id));
        const free = idle.find((c) => c.id === reuse[i]) ?? idle[0];
        const { deviceId, name } = free ? { deviceId: free.id, name: free.name } : await this.enrol(prefix, candidates.length > 0, key, i);
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
        void device.closed.then((reason) => {
          if (reason !== 'simulation stopped') {
            this.logger.warn(`simulated device ${name} stopped: ${reason}`);
            return this.devices.disconnected(deviceId, reason);
          }
          return undefined;
        });
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
      sessionId: null,
      createdAt: new Date().toISOString(),
    };
    this.simulations.set(id, { view, devices, cameras, listeners, thread });
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

function cameraKnobs(cameras: Map<number, SceneCaptureSource>): CameraKnobsView[] {
  return [...cameras.entries()].map(([view, c]) => ({ view, ...c.knobs }));
}
