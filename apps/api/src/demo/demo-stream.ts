import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { SimulationView, StreamView } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ModelCatalog } from '../orchestrator/model-catalog';
import { DEMO_MODEL_ID } from '../sessions/demo-session';
import { SimulationsService } from '../simulations/simulations.service';
import { StreamsService } from '../streams/streams.service';
import { DemoLabeller } from './demo-labeller';

/** The demo stream is the running stream with this tag (one per platform; it resumes across restarts). */
export const DEMO_STREAM_TAG = 'demo';
/** The street the demo watches: seed, and a period of 45 passages (6 minutes) after which it repeats. */
export const DEMO_SCENE = { seed: 1, period: 45 } as const;
/**
 * The demo's simulation id, the same after every restart: its note tells operators to degrade a camera at
 * /api/simulations/<id>/cameras/<view>, and a new id each start left that call answering 404.
 */
export const DEMO_SIMULATION_ID = '00000000-0000-4000-8000-00000000de30';
/** How late the labels arrive after their sample was captured. */
export const DEMO_LABEL_DELAY_MS = 4000;
/**
 * How often the due labels are posted: each post reads the stream, its model, the named samples and the summary
 * and appends (about eight queries whatever its size), so posting every 5 s rather than every 2 s cuts what
 * labelling costs an idle machine from ~4 queries a second to ~1.6; labels then arrive 4 to 9 s late.
 */
export const DEMO_LABEL_FLUSH_MS = 5000;
const lateness = `${DEMO_LABEL_DELAY_MS / 1000}-${(DEMO_LABEL_DELAY_MS + DEMO_LABEL_FLUSH_MS) / 1000} s late`;

/**
 * npm start's live demo: six simulated cameras on the moving scene, a stream over them at DDNN_DEMO_STREAM_RATE
 * samples per second with the default model, and labels for its samples a few seconds late (the scene knows the
 * truth), so a first-time user sees a fleet being watched. The stream is made once and resumed after restarts
 * (its cameras are the same device rows); DDNN_DEMO=false or DDNN_DEMO_STREAM_RATE=0 turns it off.
 */
@Injectable()
export class DemoStream implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DemoStream');
  private labeller: DemoLabeller | null = null;
  /** Settles when the demo stream runs (or was skipped); tests wait on it. */
  ready: Promise<string | null> = Promise.resolve(null);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly models: ModelCatalog,
    private readonly simulations: SimulationsService,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.DDNN_DEMO || this.config.DDNN_DEMO_STREAM_RATE === 0) return;
    this.ready = this.run().catch((e: unknown) => {
      this.logger.warn(`demo stream skipped: ${e instanceof Error ? e.message : e}`);
      return null;
    });
  }

  onModuleDestroy(): void {
    this.labeller?.stop();
  }

  private async run(): Promise<string | null> {
    const model = await this.models.describe(DEMO_MODEL_ID).catch(() => null);
    if (!model) {
      this.logger.log(`no model '${DEMO_MODEL_ID}' registered: no demo stream`);
      return null;
    }
    // StreamsModule keeps its service to itself; the demo is its client like the REST controller.
    const streams = this.moduleRef.get(StreamsService, { strict: false });
    const existing = await this.current(streams);
    const cameras = Math.max(...model.deviceViews) + 1;
    const byView = new Map((existing?.topology.devices ?? []).map((d) => [d.view, d.deviceId]));
    const sim = await this.simulations.create(
      { devices: cameras, source: 'scene', scene: { ...DEMO_SCENE }, persist: true },
      { reuse: Array.from({ length: cameras }, (_, v) => byView.get(v) ?? ''), id: DEMO_SIMULATION_ID },
    );
    let id = existing && sameCameras(existing, sim) ? existing.id : null;
    if (existing && !id) {
      this.logger.warn(`demo stream ${existing.id}: its cameras are gone; stopping it and starting a new one`);
      await streams.stop(existing.id);
    }
    if (!id) {
      ({ id } = await streams.create({
        modelId: DEMO_MODEL_ID,
        topology: { devices: model.deviceViews.map((view) => ({ deviceId: sim.devices[view].deviceId, view })) },
        policy: { kind: 'entropy', thresholds: { local: this.config.DDNN_DEMO_THRESHOLD } },
        rate: this.config.DDNN_DEMO_STREAM_RATE,
        deadlineMs: 2000,
        name: 'Demo: street cameras',
        tags: [DEMO_STREAM_TAG],
        note:
          `Six simulated cameras on the moving scene (seed ${DEMO_SCENE.seed}); labels arrive ${lateness}. Degrade a camera with ` +
          `PATCH /api/simulations/${sim.id}/cameras/<view> {"noise": 0.8, "occlusion": 0.5} (zeros restore it; a restart restores every camera).`,
        simulationId: sim.id,
      }));
      this.logger.log(`demo stream ${id}: ${this.config.DDNN_DEMO_STREAM_RATE} samples/s over the moving scene, labels ${lateness}`);
    } else {
      this.logger.log(`demo stream ${id} resumes on its cameras (simulation ${sim.id})`);
    }
    const runId = id;
    this.labeller = new DemoLabeller(runId, DEMO_LABEL_DELAY_MS, {
      onCapture: (listener) => this.simulations.onCapture(sim.id, listener),
      truth: (capturedAt) => this.simulations.sceneTruth(sim.id, capturedAt),
      label: (run, labels) => streams.label(run, labels),
      warn: (message) => this.logger.warn(message),
    });
    this.labeller.start(DEMO_LABEL_FLUSH_MS);
    return runId;
  }

  /** The demo stream still running (or queued) from an earlier start, if any. */
  private async current(streams: StreamsService): Promise<StreamView | null> {
    for (const status of ['running', 'pending'] as const) {
      const { items } = await streams.list({ status, limit: 100, offset: 0 });
      const demo = items.find((s) => s.tags.includes(DEMO_STREAM_TAG));
      if (demo) return demo;
    }
    return null;
  }
}

/** Whether a simulation serves every camera of a stream with the same device. */
function sameCameras(stream: StreamView, sim: SimulationView): boolean {
  return stream.topology.devices.every((d) => sim.devices.some((s) => s.view === d.view && s.deviceId === d.deviceId));
}
