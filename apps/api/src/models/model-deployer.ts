import { Injectable } from '@nestjs/common';
import { DeviceTransport } from '../devices/transport/device-transport';
import { ModelsService } from './models.service';

export interface DeployOutcome {
  deviceId: string;
  section: string | null;
  ok: boolean;
  error?: string;
}

/** Pushes a model's sections to devices: each end device gets `device-<its view>`, each edge `edge-<name>`. */
@Injectable()
export class ModelDeployer {
  constructor(
    private readonly models: ModelsService,
    private readonly transport: DeviceTransport,
  ) {}

  /** Deploys to the given devices (default: every connected end device), in parallel; one outcome per device. */
  async deploy(modelId: string, targets: { deviceId: string; section?: string }[] | null, timeoutMs = 30_000): Promise<DeployOutcome[]> {
    await this.models.get(modelId);
    const connected = await this.transport.connectedDevices();
    const byId = new Map(connected.map((c) => [c.deviceId, c]));
    const list: { deviceId: string; section?: string }[] = targets ?? connected.filter((c) => c.role === 'end-device').map((c) => ({ deviceId: c.deviceId }));
    return Promise.all(
      list.map(async (t): Promise<DeployOutcome> => {
        const device = byId.get(t.deviceId);
        if (!device) return { deviceId: t.deviceId, section: t.section ?? null, ok: false, error: 'not connected' };
        const section = t.section ?? (device.role === 'end-device' && device.view !== null ? `device-${device.view}` : null);
        if (!section) return { deviceId: t.deviceId, section: null, ok: false, error: 'an edge device needs an explicit section (edge-<name>)' };
        try {
          const ack = await this.transport.deploy(t.deviceId, await this.models.deployMessage(modelId, section), timeoutMs);
          return ack.ok ? { deviceId: t.deviceId, section, ok: true } : { deviceId: t.deviceId, section, ok: false, error: ack.error };
        } catch (e) {
          return { deviceId: t.deviceId, section, ok: false, error: (e as Error).message };
        }
      }),
    );
  }
}
