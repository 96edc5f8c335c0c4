import { z } from 'zod';
import { pooledSize } from '../layers/maxpool';
import { sectionName } from '@ddnn/contracts';

export const AGGREGATORS = ['MP', 'AP', 'CC'] as const;
export type Aggregator = (typeof AGGREGATORS)[number];

/**
 * Arithmetic of an edge or cloud section. `binary`: the paper's sign weights and sign activations. `float`: full
 * precision weights and ReLU activations (an edge's last block still ends in sign, because its output is a wire
 * message); both take the same binary feature maps in, so the bytes on every link are the same.
 */
export const PRECISIONS = ['binary', 'float'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** An edge section: a named group of devices -> edge aggregator -> ConvP blocks (pool stride 2) -> edge exit. */
export interface EdgeSpec {
  name: string;
  devices: number[];
  aggregator: Aggregator;
  filters: number[];
  precision: Precision;
  /** Widths of the float hidden layers between the last ConvP block and the exit (empty = exit directly). */
  hidden: number[];
}

/**
 * The cloud section: [shared ConvP blocks on each input] -> aggregator -> ConvP blocks (pool stride `poolStride`)
 * -> hidden layers -> exit.
 */
export interface CloudSpec {
  /**
   * Filters of ConvP blocks (the cloud's precision and pool stride) run on each input's map separately, with one set
   * of weights shared by every input, before the aggregator (empty: the inputs' maps are aggregated directly, as the
   * paper). Shared weights treat the views alike, cost a fraction of a per-view filter bank's parameters, and let a
   * failed input (an all-zero map) be left out of the aggregate instead of shifting it: CC zeroes its slot, MP and AP
   * pool over the live inputs only.
   */
  shared: number[];
  aggregator: Aggregator;
  filters: number[];
  precision: Precision;
  /** 1 keeps the map size (the paper's cloud), 2 halves it per block. */
  poolStride: number;
  hidden: number[];
}

/** The declarative DDNN topology (normalised form: one filter count per ConvP block). */
export interface Topology {
  /** Dataset views, one end device each (section `device-<view>`). */
  devices: number[];
  device: { filters: number[] };
  local: { aggregator: Aggregator };
  edges: EdgeSpec[];
  cloud: CloudSpec;
  exitWeights: { device: number; local: number; edge: number; cloud: number };
}

const filtersSchema = z.array(z.number().int().min(1).max(256)).min(1).max(8);
const blocksSpec = z
  .object({ blocks: z.number().int().min(1).max(8).optional(), filters: z.union([z.number().int().min(1).max(256), filtersSchema]).optional() })
  .optional();
const aggregator = z.enum(AGGREGATORS);
const precision = z.enum(PRECISIONS);
const hidden = z.array(z.number().int().min(1).max(4096)).max(4);

/** JSON accepted for a topology file; every field has the paper's default. */
export const topologyInputSchema = z.strictObject({
  devices: z.array(z.number().int().min(0)).min(1).optional(),
  device: blocksSpec,
  local: z.strictObject({ aggregator: aggregator.optional() }).optional(),
  edges: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[\w.-]+$/, 'edge names use letters, digits, _ . -'),
        devices: z.array(z.number().int().min(0)).min(1),
        aggregator: aggregator.optional(),
        blocks: z.number().int().min(1).max(8).optional(),
        filters: z.union([z.number().int().min(1).max(256), filtersSchema]).optional(),
        precision: precision.optional(),
        hidden: hidden.optional(),
      }),
    )
    .optional(),
  cloud: z
    .strictObject({
      shared: z.array(z.number().int().min(1).max(256)).max(8).optional(),
      aggregator: aggregator.optional(),
      blocks: z.number().int().min(1).max(8).optional(),
      filters: z.union([z.number().int().min(1).max(256), filtersSchema]).optional(),
      precision: precision.optional(),
      poolStride: z.union([z.literal(1), z.literal(2)]).optional(),
      hidden: hidden.optional(),
    })
    .optional(),
  exitWeights: z
    .strictObject({ device: z.number().min(0).optional(), local: z.number().min(0).optional(), edge: z.number().min(0).optional(), cloud: z.number().min(0).optional() })
    .optional(),
});
export type TopologyInput = z.input<typeof topologyInputSchema>;

function filterList(where: string, blocks: number | undefined, filters: number | number[] | undefined, defBlocks: number, defFilters: number): number[] {
  if (Array.isArray(filters)) {
    if (blocks !== undefined && blocks !== filters.length) throw new Error(`${where}: blocks is ${blocks} but ${filters.length} filter counts are given`);
    return filters;
  }
  return new Array<number>(blocks ?? defBlocks).fill(filters ?? defFilters);
}

/** Validates a topology (parsed JSON or a partial object) and fills in the paper's defaults. */
export function parseTopology(input: unknown): Topology {
  const parsed = topologyInputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid topology at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const t = parsed.data;
  const devices = t.devices ?? [0, 1, 2, 3, 4, 5];
  if (new Set(devices).size !== devices.length) throw new Error('invalid topology: a view appears twice in devices');
  const edges: EdgeSpec[] = (t.edges ?? []).map((e) => ({
    name: e.name,
    devices: e.devices,
    aggregator: e.aggregator ?? 'CC',
    filters: filterList(`edge ${e.name}`, e.blocks, e.filters, 1, 16),
    precision: e.precision ?? 'binary',
    hidden: e.hidden ?? [],
  }));
  if (edges.length > 0) {
    const seen = new Map<number, string>();
    for (const e of edges) {
      for (const d of e.devices) {
        if (!devices.includes(d)) throw new Error(`invalid topology: edge ${e.name} lists device ${d}, which is not in devices`);
        const other = seen.get(d);
        if (other) throw new Error(`invalid topology: device ${d} belongs to edges ${other} and ${e.name}`);
        seen.set(d, e.name);
      }
    }
    const orphan = devices.find((d) => !seen.has(d));
    if (orphan !== undefined) throw new Error(`invalid topology: device ${orphan} belongs to no edge (with edges, every device needs one)`);
    if (new Set(edges.map((e) => e.name)).size !== edges.length) throw new Error('invalid topology: two edges share a name');
  }
  return {
    devices,
    device: { filters: filterList('device', t.device?.blocks, t.device?.filters, 1, 4) },
    local: { aggregator: t.local?.aggregator ?? 'MP' },
    edges,
    cloud: {
      shared: t.cloud?.shared ?? [],
      aggregator: t.cloud?.aggregator ?? 'CC',
      filters: filterList('cloud', t.cloud?.blocks, t.cloud?.filters, 2, 16),
      precision: t.cloud?.precision ?? 'binary',
      poolStride: t.cloud?.poolStride ?? 1,
      hidden: t.cloud?.hidden ?? [],
    },
    exitWeights: { device: 1, local: 1, edge: 1, cloud: 1, ...t.exitWeights },
  };
}

/** Height, width, channels of one sample's map. */
export type MapShape = [number, number, number];

/** Every shape the sections exchange, derived from the topology and the input view shape. */
export interface Shapes {
  input: MapShape;
  classes: number;
  /** Each device's last ConvP output (its wire features). */
  deviceFeatures: MapShape;
  /** Per edge (same order as topology.edges), its last ConvP output. */
  edgeFeatures: MapShape[];
  /** One input's map as the cloud receives it (a device's or an edge's features). */
  cloudMessage: MapShape;
  /** What the cloud's first ConvP receives after the shared blocks and the aggregation. */
  cloudInput: MapShape;
  cloudFeatures: MapShape;
}

function afterBlocks(shape: MapShape, filters: number[], stride: number): MapShape {
  let [h, w] = shape;
  for (let i = 0; i < filters.length; i++) {
    h = pooledSize(h, stride);
    w = pooledSize(w, stride);
  }
  return [h, w, filters[filters.length - 1]];
}

function aggregatedChannels(agg: Aggregator, channels: number, count: number): number {
  return agg === 'CC' ? channels * count : channels;
}

/** Computes the section shapes of a topology for views of `input` shape and `classes` classes. */
export function topologyShapes(t: Topology, input: MapShape, classes: number): Shapes {
  const deviceFeatures = afterBlocks(input, t.device.filters, 2);
  const edgeFeatures = t.edges.map((e) => {
    const inShape: MapShape = [deviceFeatures[0], deviceFeatures[1], aggregatedChannels(e.aggregator, deviceFeatures[2], e.devices.length)];
    return afterBlocks(inShape, e.filters, 2);
  });
  const cloudMessage = t.edges.length === 0 ? deviceFeatures : edgeFeatures[0];
  if (edgeFeatures.some((s) => s.join() !== cloudMessage.join())) throw new Error('invalid topology: every edge must output the same feature shape for the cloud aggregator');
  const perInput = t.cloud.shared.length ? afterBlocks(cloudMessage, t.cloud.shared, t.cloud.poolStride) : cloudMessage;
  const cloudInput: MapShape = [perInput[0], perInput[1], aggregatedChannels(t.cloud.aggregator, perInput[2], t.edges.length || t.devices.length)];
  const cloudFeatures = afterBlocks(cloudInput, t.cloud.filters, t.cloud.poolStride);
  return { input, classes, deviceFeatures, edgeFeatures, cloudMessage, cloudInput, cloudFeatures };
}

/** Section names in checkpoint order. */
export function sectionNames(t: Topology): string[] {
  return [...t.devices.map(sectionName.device), sectionName.local, ...t.edges.map((e) => sectionName.edge(e.name)), sectionName.cloud];
}

/**
 * The model family `ddnn train` uses when no topology is given: the paper's devices (binary, one ConvP of 4
 * filters, so device memory and every message stay the paper's) under a float cloud whose width follows the
 * number of classes. The cloud first runs one ConvP block with weights shared by every device on each device's
 * features, then averages the live devices' maps (AP), then one more block and a hidden layer: the views are
 * treated alike and a dead device is left out of the average rather than shifting a per-view filter bank, with a
 * fraction of the parameters of a CC cloud (which overfit: 95-97% train against 91-94% test on 612 samples). The
 * paper's all-binary configuration stays `parseTopology({})`.
 */
export function recommendedTopology(views: number, classes: number): TopologyInput {
  const width = classes <= 4 ? 32 : 64;
  return {
    devices: Array.from({ length: views }, (_, i) => i),
    cloud: { shared: [width], aggregator: 'AP', precision: 'float', filters: [width], poolStride: 2, hidden: [Math.max(64, 4 * classes)] },
  };
}

/** Short scheme name such as "MP-CC". */
export function schemeName(t: Topology): string {
  return `${t.local.aggregator}-${t.cloud.aggregator}`;
}
