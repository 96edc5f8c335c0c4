import type { CreateSessionRequest, CreateSimulationRequest, DatasetView, ModelView, SessionTopology, SimulatedFailure, SimulationView } from '@ddnn/contracts';

/** What the start-session form holds (strings where the user types numbers). */
export interface SessionFormState {
  /** Run name and tags (experiment tracking); optional. */
  name: string;
  tags: string;
  modelId: string;
  dataset: string;
  split: 'train' | 'test';
  limit: string;
  devices: 'simulated' | 'registered';
  simulatedCount: string;
  registered: string[];
  edges: string;
  thresholdLocal: string;
  thresholdEdge: string;
  mode: 'production' | 'research';
  deadlineMs: string;
  rate: string;
  latencyMs: string;
  bandwidthKbps: string;
  failures: { device: string; atSample: string; kind: SimulatedFailure['kind'] }[];
}

export const defaultSessionForm: SessionFormState = {
  name: '',
  tags: '',
  // Picked from what the API has registered (withCatalogDefaults); never a guess.
  modelId: '',
  dataset: '',
  split: 'test',
  limit: '',
  devices: 'simulated',
  simulatedCount: '6',
  registered: [],
  edges: '0',
  thresholdLocal: '0.8',
  thresholdEdge: '',
  mode: 'production',
  deadlineMs: '2000',
  rate: '',
  latencyMs: '',
  bandwidthKbps: '',
  failures: [],
};

export class FormError extends Error {}

/** Camera views a model has a device section for (`device-<view>`). */
export function modelViews(m: Pick<ModelView, 'sections'>): number[] {
  return m.sections.flatMap((s) => (/^device-(\d+)$/.exec(s.name) ? [Number(s.name.slice(7))] : [])).sort((a, b) => a - b);
}

/** Edge sections of a model (`edge-<name>`). */
export function modelEdges(m: Pick<ModelView, 'sections'>): string[] {
  return m.sections.flatMap((s) => (s.name.startsWith('edge-') ? [s.name] : []));
}

/**
 * Fills what the operator has not picked from what exists: the `default` model (else the first), a dataset with
 * test samples and as many views as the model (else the first), one simulated device per model view. A field
 * already holding a value that still exists is kept.
 */
export function withCatalogDefaults(f: SessionFormState, models: ModelView[], datasets: DatasetView[], pick?: string): SessionFormState {
  const model = models.find((m) => m.id === pick) ?? models.find((m) => m.id === f.modelId) ?? models.find((m) => m.id === 'default') ?? models[0];
  const views = model ? modelViews(model) : [];
  const fits = (d: DatasetView) => d.splits.test > 0 && d.views >= views.length;
  const dataset = datasets.find((d) => d.name === f.dataset) ?? datasets.find(fits) ?? datasets[0];
  const modelChanged = !!model && model.id !== f.modelId;
  return {
    ...f,
    modelId: model?.id ?? '',
    dataset: dataset?.name ?? '',
    simulatedCount: modelChanged && views.length ? String(views.length) : f.simulatedCount,
    edges: modelChanged ? String(model ? modelEdges(model).length : 0) : f.edges,
    thresholdEdge: modelChanged && model && modelEdges(model).length && !f.thresholdEdge ? '0.8' : f.thresholdEdge,
  };
}

/** "a, b  c" -> ['a', 'b', 'c'] (tags as the operator types them). */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean))];
}

function num(label: string, v: string, o: { int?: boolean; min?: number; max?: number; optional?: boolean } = {}): number | undefined {
  const t = v.trim();
  if (t === '') {
    if (o.optional) return undefined;
    throw new FormError(`${label} is required`);
  }
  const x = Number(t);
  if (!Number.isFinite(x)) throw new FormError(`${label} must be a number, got "${t}"`);
  if (o.int && !Number.isInteger(x)) throw new FormError(`${label} must be a whole number, got ${t}`);
  if (o.min !== undefined && x < o.min) throw new FormError(`${label} must be at least ${o.min}, got ${t}`);
  if (o.max !== undefined && x > o.max) throw new FormError(`${label} must be at most ${o.max}, got ${t}`);
  return x;
}

/** The simulation to create first, or null when the session uses registered devices. */
export function simulationRequest(f: SessionFormState): CreateSimulationRequest | null {
  if (f.devices !== 'simulated') return null;
  const devices = num('Simulated devices', f.simulatedCount, { int: true, min: 1, max: 64 })!;
  const failures: SimulatedFailure[] = f.failures.map((x, i) => ({
    device: num(`Failure ${i + 1}: device`, x.device, { int: true, min: 0, max: devices - 1 })!,
    atSample: num(`Failure ${i + 1}: from sample`, x.atSample, { int: true, min: 0 })!,
    kind: x.kind,
  }));
  const latencyMs = num('Link latency', f.latencyMs, { min: 0, optional: true });
  const bandwidthKbps = num('Link bandwidth', f.bandwidthKbps, { min: 1, optional: true });
  if ((latencyMs === undefined) !== (bandwidthKbps === undefined)) throw new FormError('Give both link latency and bandwidth, or neither');
  return { devices, failures, ...(latencyMs !== undefined ? { link: { latencyMs, bandwidthKbps: bandwidthKbps! } } : {}) };
}

/** Devices (id, view) dealt round-robin to `edges` edge nodes simulated in the server. */
export function topologyFor(devices: { deviceId: string; view: number | null }[], edges: number): SessionTopology {
  const names = Array.from({ length: edges }, (_, i) => `edge-${i}`);
  return {
    devices: devices.map((d, i) => ({ deviceId: d.deviceId, view: d.view ?? i, ...(edges ? { edge: names[i % edges] } : {}) })),
    ...(edges ? { edges: names.map((name) => ({ name, deviceId: null })) } : {}),
  };
}

/** Validates the form and builds the session request for the given devices. */
export function sessionRequest(f: SessionFormState, devices: { deviceId: string; view: number | null }[]): CreateSessionRequest {
  if (!f.modelId.trim()) throw new FormError('Model is required: register one on the Models page (npm start registers models/default)');
  if (!f.dataset.trim()) throw new FormError('Dataset is required: npm start writes one under .data/datasets');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(f.dataset.trim())) throw new FormError(`Dataset must be a dataset folder name, got "${f.dataset}"`);
  if (devices.length === 0) throw new FormError('Pick at least one device');
  const edges = num('Edge nodes', f.edges, { int: true, min: 0, max: 16 })!;
  const local = num('Local threshold', f.thresholdLocal, { min: 0, max: 1 })!;
  const edge = edges ? num('Edge threshold', f.thresholdEdge, { min: 0, max: 1, optional: true }) : undefined;
  const limit = num('Sample limit', f.limit, { int: true, min: 1, optional: true });
  const rate = num('Rate', f.rate, { min: 0.001, optional: true });
  const tags = parseTags(f.tags);
  return {
    ...(f.name.trim() ? { name: f.name.trim() } : {}),
    ...(tags.length ? { tags } : {}),
    modelId: f.modelId.trim(),
    dataset: f.dataset.trim(),
    split: f.split,
    ...(limit !== undefined ? { limit } : {}),
    topology: topologyFor(devices, edges),
    policy: { kind: 'entropy', thresholds: edge !== undefined ? { local, edge } : { local } },
    mode: f.mode,
    deadlineMs: num('Deadline', f.deadlineMs, { int: true, min: 1, max: 600_000 })!,
    ...(rate !== undefined ? { rate } : {}),
  };
}

/** End devices of a simulation, in creation order. */
export function simulationDevices(sim: SimulationView): { deviceId: string; view: number | null }[] {
  return sim.devices
    .filter((d) => d.role === 'end-device')
    .sort((a, b) => a.index - b.index)
    .map((d) => ({ deviceId: d.deviceId, view: d.view }));
}
