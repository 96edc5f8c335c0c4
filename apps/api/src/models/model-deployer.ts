import { Injectable, Logger } from '@nestjs/common';
import { sectionName, type SessionTopology } from '@ddnn/contracts';
import { DeviceTransport } from '../devices/transport/device-transport';
import { ModelsService } from './models.service';
import { busyWith, conflictingRun, RunsInUseRepository, sectionsOf } from './runs-in-use.repository';

export interface DeployOutcome {
  deviceId: string;
  section: string | null;
  ok: boolean;
  /** The device already had this section of this model version (nothing sent). */
  skipped?: boolean;
  error?: string;
}

/** Deploys can carry a whole section; a slow link gets this long per device. */
const DEPLOY_TIMEOUT_MS = 30_000;

/**
 * The one way a model's sections reach devices: each end device gets `device-<its view>`, each edge node
 * `edge-<name>` (sectionName). Used by POST /api/models/:id/deploy and before every session.
 */
@Injectable()
export class ModelDeployer {
  private readonly logger = new Logger(ModelDeployer.name);

  constructor(
    private readonly models: ModelsService,
    private readonly transport: DeviceTransport,
    private readonly runsInUse: RunsInUseRepository,
  ) {}

  /**
   * Deploys to the given devices (default: every connected end device), in parallel; one outcome per device. A
   * device that a queued or running run computes with is refused unless this is the very section the run installed
   * (a reinstall): anything else would change what the run computes while its log names the run's model.
   */
  async deploy(modelId: string, targets: { deviceId: string; section?: string }[] | null, timeoutMs = DEPLOY_TIMEOUT_MS): Promise<DeployOutcome[]> {
    const inUse = await this.runsInUse.byDevice();
    return this.send(modelId, targets, { timeoutMs, skipInstalled: false }, (deviceId, section) => {
      const run = conflictingRun(inUse.get(deviceId), modelId, section);
      return run ? busyWith(run) : null;
    });
  }

  /**
   * Installs each topology device's section before a session, skipping devices that have it. A device that is
   * not connected or refuses is logged, not fatal: the session runs without it, logging DeviceMissed for its samples.
   */
  async ensure(topology: SessionTopology, modelId: string): Promise<DeployOutcome[]> {
    const targets = sectionsOf(topology, modelId);
    const outcomes = await this.send(modelId, targets, { timeoutMs: DEPLOY_TIMEOUT_MS, skipInstalled: true });
    for (const o of outcomes) {
      if (!o.ok) this.logger.warn(`deploying ${o.section} of model ${modelId} to device ${o.deviceId} failed: ${o.error}`);
    }
    return outcomes;
  }

  private async send(
    modelId: string,
    targets: { deviceId: string; section?: string }[] | null,
    opts: { timeoutMs: number; skipInstalled: boolean },
    refusal: (deviceId: string, section: string) => string | null = () => null,
  ): Promise<DeployOutcome[]> {
    const { version } = await this.models.checkpoint(modelId);
    const connected = await this.transport.connectedDevices();
    const byId = new Map(connected.map((c) => [c.deviceId, c]));
    const list: { deviceId: string; section?: string }[] = targets ?? connected.filter((c) => c.role === 'end-device').map((c) => ({ deviceId: c.deviceId }));
    return Promise.all(
      list.map(async (t): Promise<DeployOutcome> => {
        const device = byId.get(t.deviceId);
        if (!device) return { deviceId: t.deviceId, section: t.section ?? null, ok: false, error: 'not connected' };
        const section = t.section ?? (device.role === 'end-device' && device.view !== null ? sectionName.device(device.view) : null);
        if (!section) return { deviceId: t.deviceId, section: null, ok: false, error: 'an edge device needs an explicit section (edge-<name>)' };
        const refused = refusal(t.deviceId, section);
        if (refused) return { deviceId: t.deviceId, section, ok: false, error: refused };
        if (opts.skipInstalled && device.modelId === modelId && device.modelVersion === version && device.section === section) {
          return { deviceId: t.deviceId, section, ok: true, skipped: true };
        }
        try {
          const ack = await this.transport.deploy(t.deviceId, await this.models.deployMessage(modelId, section), opts.timeoutMs);
          return ack.ok ? { deviceId: t.deviceId, section, ok: true } : { deviceId: t.deviceId, section, ok: false, error: ack.error };
        } catch (e) {
          return { deviceId: t.deviceId, section, ok: false, error: (e as Error).message };
        }
      }),
    );
  }
}
