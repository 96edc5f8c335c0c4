import { Injectable } from '@nestjs/common';
import { sectionName, type MessageSizes } from '@ddnn/contracts';
import {
  DEFAULT_THRESHOLD,
  createLocalAggregator,
  loadSection,
  modelMessageSizes,
  openCloudSection,
  openEdgeSection,
  parseTopology,
  readCheckpointManifest,
  topologyShapes,
  type CheckpointManifest,
  type MapShape,
} from '@ddnn/ddnn';
import { ModelsService } from '../models/models.service';
import { CloudBatcher } from './cloud-batcher';
import type { ServerSections } from './ports';
import type { SessionModel } from './session-runner';

export interface ModelDescription {
  modelId: string;
  version: string;
  dir: string;
  classes: string[];
  views: number;
  /** Views that have a device section. */
  deviceViews: number[];
  edges: { name: string; views: number[] }[];
  hasEdge: boolean;
  messageSizes: MessageSizes;
  /** The model's exit threshold T (chosen on its validation split when trained; the paper's 0.8 otherwise). */
  threshold: number;
}

/** What a checkpoint's messages weigh on the wire (libs/ddnn accounting, the sizes the log records). */
export function messageSizesOf(manifest: CheckpointManifest): MessageSizes {
  const topology = parseTopology(manifest.topology);
  return modelMessageSizes(topologyShapes(topology, manifest.architecture.input as MapShape, manifest.classes.length));
}

async function describeCheckpoint(modelId: string, version: string, dir: string): Promise<ModelDescription> {
  const manifest = await readCheckpointManifest(dir);
  const topology = parseTopology(manifest.topology);
  return {
    modelId,
    version,
    dir,
    classes: manifest.classes,
    views: Math.max(...topology.devices) + 1,
    deviceViews: topology.devices,
    edges: topology.edges.map((e) => ({ name: e.name, views: e.devices })),
    hasEdge: topology.edges.length > 0,
    messageSizes: messageSizesOf(manifest),
    threshold: manifest.threshold ?? DEFAULT_THRESHOLD,
  };
}

/**
 * Registered models (ModelsService) opened for sessions: the local aggregator, simulated edges and the cloud
 * run in the server from the checkpoint's sections (tfjs). Opened sections are cached per model version.
 */
@Injectable()
export class ModelCatalog {
  private readonly opened = new Map<string, Promise<SessionModel>>();
  private readonly described = new Map<string, Promise<ModelDescription>>();

  constructor(private readonly models: ModelsService) {}

  /**
   * What a registered model is (classes, views, message sizes, T): one row read, then the checkpoint's manifest
   * once per model version (a stream's label posts ask for its classes every time).
   */
  async describe(modelId: string): Promise<ModelDescription> {
    const { version, path: dir } = await this.models.checkpoint(modelId).catch(() => {
      throw new Error(`model '${modelId}' is not registered (POST /api/models registers a checkpoint)`);
    });
    const key = `${modelId}@${version}`;
    let described = this.described.get(key);
    if (!described) {
      described = describeCheckpoint(modelId, version, dir);
      described.catch(() => this.described.delete(key));
      this.described.set(key, described);
    }
    return described;
  }

  /** The model with its server-side sections open, ready for a session. */
  load(modelId: string): Promise<SessionModel> {
    return this.describe(modelId).then((d) => {
      const key = `${d.modelId}@${d.version}`;
      let model = this.opened.get(key);
      if (!model) {
        model = this.open(d);
        model.catch(() => this.opened.delete(key));
        this.opened.set(key, model);
      }
      return model;
    });
  }

  private async open(d: ModelDescription): Promise<SessionModel> {
    const manifest = await readCheckpointManifest(d.dir);
    const topology = parseTopology(manifest.topology);
    const local = createLocalAggregator(manifest, await loadSection(d.dir, sectionName.local, manifest));
    const cloud = await openCloudSection(manifest, await loadSection(d.dir, sectionName.cloud, manifest));
    const edges = new Map(
      await Promise.all(
        topology.edges.map(async (e) => [e.name, await openEdgeSection(manifest, e.name, await loadSection(d.dir, sectionName.edge(e.name), manifest))] as const),
      ),
    );
    const edgeViews = new Map(topology.edges.map((e) => [e.name, e.devices]));
    const cloudKeys: (number | string)[] = topology.edges.length ? topology.edges.map((e) => e.name) : topology.devices;
    // One batcher per opened model: samples of every session on this model that reach the cloud together share a pass.
    const cloudBatcher = new CloudBatcher((inputs: (Uint8Array | null)[][]) => cloud.inferBatch(inputs));
    const sections: ServerSections = {
      // The sections take their inputs in the model's own order, with null for what did not arrive.
      local: (scores) => (scores.size ? Array.from(local(topology.devices.map((v) => scores.get(v) ?? null))) : null),
      edgeViews: (name) => {
        const views = edgeViews.get(name);
        if (!views) throw new Error(`model ${d.modelId} has no edge '${name}'`);
        return views;
      },
      edge: (name, features) => {
        const section = edges.get(name);
        if (!section) throw new Error(`model ${d.modelId} has no edge '${name}'`);
        return section.infer(section.devices.map((v) => features.get(v) ?? null));
      },
      cloud: (features) => cloudBatcher.infer(cloudKeys.map((k) => features.get(k) ?? null)),
    };
    return { modelId: d.modelId, classes: manifest.classes, deviceViews: d.deviceViews, edges: d.edges, sections, messageSizes: d.messageSizes };
  }
}
