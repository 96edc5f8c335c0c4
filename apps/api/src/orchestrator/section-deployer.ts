import { Injectable, Logger } from '@nestjs/common';
import type { CreateSessionRequest } from '@ddnn/contracts';
import { DeviceTransport } from '../devices/transport/device-transport';
import { ModelsService } from '../models/models.service';

/** Deploys can carry a whole section; a slow link gets this long per device. */
const DEPLOY_TIMEOUT_MS = 30_000;

/** Installs each topology device's section of the model before a session, skipping devices that have it. */
@Injectable()
export class SectionDeployer {
  private readonly logger = new Logger(SectionDeployer.name);

  constructor(
    private readonly transport: DeviceTransport,
    private readonly models: ModelsService,
  ) {}

  async ensure(spec: CreateSessionRequest, modelId: string): Promise<void> {
    const { version } = await this.models.get(modelId);
    const connected = new Map((await this.transport.connectedDevices()).map((d) => [d.deviceId, d]));
    const wanted = [
      ...spec.topology.devices.map((d) => ({ deviceId: d.deviceId, section: `device-${d.view}` })),
      ...(spec.topology.edges ?? []).filter((e) => e.deviceId !== null).map((e) => ({ deviceId: e.deviceId as string, section: `edge-${e.name}` })),
    ];
    await Promise.all(
      wanted.map(async ({ deviceId, section }) => {
        const device = connected.get(deviceId);
        if (!device) {
          // Not reachable now: the session runs without it, logging DeviceMissed for its samples.
          this.logger.warn(`device ${deviceId} is not connected: ${section} not deployed`);
          return;
        }
        if (device.modelId === modelId && device.modelVersion === version && device.section === section) return;
        const msg = await this.models.deployMessage(modelId, section);
        const ack = await this.transport.deploy(deviceId, msg, DEPLOY_TIMEOUT_MS).catch((e: Error) => ({ ok: false as const, error: e.message }));
        // A device without its section answers with errors, logged as DeviceMissed: the session still runs.
        if (!ack.ok) this.logger.warn(`deploying ${section} of model ${modelId} to device ${deviceId} failed: ${ack.error}`);
      }),
    );
  }
}
