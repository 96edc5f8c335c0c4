import fs from 'node:fs';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { writeSynthDataset } from '@ddnn/datasets';
import type { CreateSessionRequest } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DeviceTransport } from '../devices/transport/device-transport';
import { SimulationsService } from '../simulations/simulations.service';
import { DatasetCatalog } from '../orchestrator/dataset-catalog';
import { ModelCatalog } from '../orchestrator/model-catalog';
import { SessionStore } from '../orchestrator/session-store';
import { SessionsService } from './sessions.service';

export const DEMO_MODEL_ID = 'default';
/**
 * The id of the simulation the demo starts to replay its dataset (when DDNN_SIMULATED_DEVICES does not), the same after
 * every restart as the demo stream's cameras' (DEMO_SIMULATION_ID): a new id each boot left what an operator had
 * found under /api/simulations/<id> answering 404.
 */
export const DEMO_FLEET_SIMULATION_ID = '00000000-0000-4000-8000-00000000de31';

/**
 * npm start's demo: with the default model present, make sure the default dataset exists (generated on first
 * start), wait for the six simulated devices and record one research-mode session, once. DDNN_DEMO=false skips it.
 */
@Injectable()
export class DemoSession implements OnApplicationBootstrap {
  private readonly logger = new Logger('Demo');
  /** Settles when the demo set-up is done (or skipped); tests and the benchmark wait on it. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly models: ModelCatalog,
    private readonly datasets: DatasetCatalog,
    private readonly store: SessionStore,
    private readonly sessions: SessionsService,
    private readonly transport: DeviceTransport,
    private readonly simulations: SimulationsService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.DDNN_DEMO) return;
    // In the background: the API answers while the dataset is generated and the devices connect.
    this.ready = this.run().catch((e: unknown) => this.logger.warn(`demo skipped: ${e instanceof Error ? e.message : e}`));
  }

  private async run(): Promise<void> {
    const model = await this.models.describe(DEMO_MODEL_ID).catch(() => null);
    if (!model) {
      this.logger.log(`no model '${DEMO_MODEL_ID}' registered: no demo session (register one with POST /api/models)`);
      return;
    }
    const name = this.config.DDNN_DEMO_DATASET;
    const dir = this.datasets.dir(name);
    if (!fs.existsSync(dir)) {
      this.logger.log(`generating the default dataset into ${dir} (first start only)…`);
      const t0 = Date.now();
      // Written aside and renamed, so an interrupted first start never leaves a half dataset behind.
      const partial = `${dir}.partial-${process.pid}`;
      fs.rmSync(partial, { recursive: true, force: true });
      await writeSynthDataset(partial, {});
      fs.renameSync(partial, dir);
      this.logger.log(`default dataset ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    // The simulated devices npm start connects (DDNN_SIMULATED_DEVICES) serve the demo; without them, start one per view.
    const needed = Math.max(...model.deviceViews) + 1;
    if (this.config.DDNN_SIMULATED_DEVICES < needed) await this.simulations.create({ devices: needed, persist: true }, { id: DEMO_FLEET_SIMULATION_ID });
    const devices = await this.waitForSimulatedDevices(model.deviceViews);
    this.logger.log(`${devices.length} simulated devices connected`);
    if (await this.store.demoExists()) return;
    const spec: CreateSessionRequest = {
      modelId: DEMO_MODEL_ID,
      dataset: name,
      split: 'test',
      topology: { devices },
      policy: { kind: 'entropy', thresholds: { local: this.config.DDNN_DEMO_THRESHOLD } },
      mode: 'research',
      deadlineMs: 2000,
    };
    const created = await this.sessions.create(spec, { demo: true });
    if (created) this.logger.log(`recording the demo session ${created.id} (research mode, T=${this.config.DDNN_DEMO_THRESHOLD}, ${devices.length} devices)`);
  }

  /**
   * One connected simulated end device per view of the model that replays the dataset, waiting for them to come up.
   * The demo stream's scene cameras are simulated end devices with views too, but they shoot the moving scene
   * whatever sample they are asked for: a research session over the dataset served by them scores chance.
   */
  private async waitForSimulatedDevices(views: number[]): Promise<{ deviceId: string; view: number }[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const replaying = new Set(this.simulations.list().flatMap((s) => (s.source === 'dataset' ? s.devices.map((d) => d.deviceId) : [])));
      const byView = new Map<number, string>();
      for (const d of await this.transport.connectedDevices()) {
        if (replaying.has(d.deviceId) && d.role === 'end-device' && d.view !== null && views.includes(d.view) && !byView.has(d.view)) byView.set(d.view, d.deviceId);
      }
      if (byView.size === views.length) return views.map((view) => ({ deviceId: byView.get(view) as string, view }));
      if (Date.now() > deadline) throw new Error(`only ${byView.size} of ${views.length} simulated devices connected within 60 s (DDNN_SIMULATED_DEVICES)`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
