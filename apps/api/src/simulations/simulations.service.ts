import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BadRequestException, Inject, Injectable, Logger, NotFoundException, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { CreateSimulationRequest, SimulationView } from '@ddnn/contracts';
import { checkpointRuntimeBindings } from '@ddnn/ddnn';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DeviceEntity } from '../devices/device.entity';
import { DevicesService } from '../devices/devices.service';
import { DeviceTransportService } from '../devices/transport/device-transport.service';
import { ProfilesService } from '../profiles/profiles.service';
import { SimulatedDevice } from './simulated-device';

interface Simulation {
  view: SimulationView;
  devices: SimulatedDevice[];
  heartbeat: NodeJS.Timeout;
}

const PROFILE = 'simulated';

/**
 * Simulated devices: device rows like any other (provisioned through the same service, so DeviceRegistered
 * and the connectivity events are the same), attached to DeviceTransport as in-process endpoints.
 */
@Injectable()
export class SimulationsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SimulationsService.name);
  private readonly simulations = new Map<string, Simulation>();

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

  create(req: CreateSimulationRequest): Promise<SimulationView> {
    for (const f of req.failures ?? []) {
      if (f.device >= req.devices) throw new BadRequestException(`failure for device ${f.device}: the simulation has devices 0..${req.devices - 1}`);
    }
    return this.start(req);
  }

  list(): SimulationView[] {
    return [...this.simulations.values()].map((s) => s.view);
  }

  get(id: string): SimulationView {
    const s = this.simulations.get(id);
    if (!s) throw new NotFoundException(`no simulation ${id} on this node`);
    return s.view;
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
    clearInterval(s.heartbeat);
    for (const d of s.devices) {
      const wasUp = !d.crashed;
      d.stop('simulation stopped');
      if (wasUp) await this.devices.disconnected(d.deviceId, 'simulation stopped');
    }
  }

  private async start(req: CreateSimulationRequest): Promise<SimulationView> {
    const { key } = await this.profiles.ensureInternal(PROFILE, 'In-process simulated devices');
    const bindings = checkpointRuntimeBindings({ dataRoot: path.join(this.config.DDNN_DATA_DIR, 'datasets') });
    const id = randomUUID();
    const devices: SimulatedDevice[] = [];
    for (let i = 0; i < req.devices; i++) {
      // Reuse a simulated device of this view that nothing drives now, so restarts do not pile up rows.
      const candidates = await this.rows.find({ where: { simulated: true, role: 'end-device', view: i, adminState: 'unlocked' }, order: { createdAt: 'ASC' } });
      const free = candidates.find((c) => !this.transport.endpoint(c.id));
      const name = free?.name ?? (candidates.length ? `sim-${i}-${randomUUID().slice(0, 6)}` : `sim-${i}`);
      const deviceId = free?.id ?? (await this.devices.provision({ name, profileKey: key, role: 'end-device', view: i, capabilities: { simulated: true } }, true)).deviceId;
      const device = new SimulatedDevice({
        deviceId,
        name,
        role: 'end-device',
        view: i,
        bindings,
        failures: (req.failures ?? []).filter((f) => f.device === i),
        link: req.link ?? null,
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
    const heartbeat = setInterval(() => {
      for (const d of devices) {
        if (d.crashed) continue;
        this.devices.activity(d.deviceId).catch((e: unknown) => this.logger.error(`heartbeat of ${d.name}: ${(e as Error).message}`));
      }
    }, this.config.DEVICE_HEARTBEAT_INTERVAL_MS);
    heartbeat.unref();
    const view: SimulationView = {
      id,
      devices: devices.map((d, index) => ({ deviceId: d.deviceId, name: d.name, role: d.role, view: d.view, index })),
      failures: req.failures ?? [],
      link: req.link ?? null,
      persist: req.persist ?? false,
      sessionId: null,
      createdAt: new Date().toISOString(),
    };
    this.simulations.set(id, { view, devices, heartbeat });
    return view;
  }
}
