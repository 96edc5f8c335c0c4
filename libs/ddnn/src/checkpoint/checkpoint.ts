import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_THRESHOLD, FORMAT_VERSION, READABLE_FORMAT_VERSIONS, type DdnnModel } from '../model/model';
import { sectionSpecs, type SectionValues } from '../model/params';
import { parseTopology, topologyShapes, type MapShape } from '../model/topology';

const tensorEntry = z.strictObject({ name: z.string().min(1), shape: z.array(z.number().int().min(1)), offset: z.number().int().min(0) });
const sectionEntry = z.strictObject({ name: z.string().min(1), file: z.string().regex(/^[\w.-]+\.bin$/), bytes: z.number().int().min(0), tensors: z.array(tensorEntry) });

const manifestSchema = z.object({
  formatVersion: z.number().int(),
  architecture: z.object({
    input: z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]),
    binarization: z.string(),
    convp: z.string(),
    batchNormEpsilon: z.number(),
  }),
  topology: z.unknown(),
  classes: z.array(z.string()).min(2),
  threshold: z.number().min(0).max(1).optional(),
  training: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  sections: z.array(sectionEntry),
});

/** manifest.json of a checkpoint directory. */
export type CheckpointManifest = z.infer<typeof manifestSchema>;
export type SectionEntry = z.infer<typeof sectionEntry>;

/** Thrown for a checkpoint that cannot be used: wrong format version, bad manifest, missing file, shape mismatch. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

function encodeSection(name: string, values: SectionValues): { entry: SectionEntry; bytes: Uint8Array } {
  let offset = 0;
  const tensors = [...values].map(([tensor, v]) => {
    const entry = { name: tensor, shape: v.shape, offset };
    offset += v.data.length * 4;
    return entry;
  });
  const buf = new ArrayBuffer(offset);
  const view = new DataView(buf);
  let at = 0;
  for (const v of values.values()) for (const x of v.data) view.setFloat32((at += 4) - 4, x, true);
  return { entry: { name, file: `${name}.bin`, bytes: offset, tensors }, bytes: new Uint8Array(buf) };
}

/** The manifest and per-section weight files of a model, in memory. */
export function encodeCheckpoint(model: DdnnModel): { manifest: CheckpointManifest; files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  const sections: SectionEntry[] = [];
  for (const [name, values] of model.sections) {
    const { entry, bytes } = encodeSection(name, values);
    sections.push(entry);
    files.set(entry.file, bytes);
  }
  const manifest: CheckpointManifest = {
    formatVersion: FORMAT_VERSION,
    architecture: model.architecture,
    topology: model.topology,
    classes: model.classes,
    threshold: model.threshold,
    training: model.training as unknown as Record<string, unknown>,
    metrics: model.metrics,
    sections,
  };
  return { manifest, files };
}

/** Writes a checkpoint directory: manifest.json + one `<section>.bin` (float32 little-endian) per section. */
export async function saveCheckpoint(dir: string, model: DdnnModel): Promise<void> {
  const { manifest, files } = encodeCheckpoint(model);
  await mkdir(dir, { recursive: true });
  for (const [file, bytes] of files) await writeFile(join(dir, file), bytes);
  // manifest last and atomically: a directory with a manifest is complete.
  await writeFile(join(dir, 'manifest.json.tmp'), JSON.stringify(manifest, null, 2) + '\n');
  await rename(join(dir, 'manifest.json.tmp'), join(dir, 'manifest.json'));
}

/** Validates manifest JSON (format version, topology, every section's tensor shapes against the topology). */
export function parseCheckpointManifest(json: unknown): CheckpointManifest {
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (!(READABLE_FORMAT_VERSIONS as readonly unknown[]).includes(version)) {
    throw new CheckpointError(`checkpoint format version ${String(version)} is not supported (expected ${READABLE_FORMAT_VERSIONS.join(' or ')})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(`invalid checkpoint manifest at ${issue.path.join('.')}: ${issue.message}`);
  }
  const m = parsed.data;
  let topology;
  try {
    topology = parseTopology(m.topology);
  } catch (err) {
    throw new CheckpointError(`checkpoint manifest: ${(err as Error).message}`);
  }
  const specs = sectionSpecs(topology, topologyShapes(topology, m.architecture.input as MapShape, m.classes.length));
  for (const spec of specs) {
    const entry = m.sections.find((s) => s.name === spec.name);
    if (!entry) throw new CheckpointError(`checkpoint has no section ${spec.name}`);
    for (const p of spec.params) {
      const t = entry.tensors.find((x) => x.name === p.name);
      if (!t) throw new CheckpointError(`section ${spec.name} lacks tensor ${p.name}`);
      if (t.shape.join() !== p.shape.join()) throw new CheckpointError(`section ${spec.name} tensor ${p.name} has shape [${t.shape}] but the topology needs [${p.shape}]`);
      if (t.offset + p.shape.reduce((a, b) => a * b, 4) > entry.bytes) throw new CheckpointError(`section ${spec.name} tensor ${p.name} runs past the end of ${entry.file}`);
    }
  }
  return { ...m, topology };
}

/** Decodes one section's weight file (as a device receives it) using the manifest's tensor table. */
export function decodeSection(manifest: CheckpointManifest, section: string, bytes: Uint8Array): SectionValues {
  const entry = manifest.sections.find((s) => s.name === section);
  if (!entry) throw new CheckpointError(`checkpoint has no section ${section}`);
  if (bytes.length !== entry.bytes) throw new CheckpointError(`${entry.file} has ${bytes.length} bytes, the manifest says ${entry.bytes}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: SectionValues = new Map();
  for (const t of entry.tensors) {
    const data = new Float32Array(t.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(t.offset + 4 * i, true);
    values.set(t.name, { shape: t.shape, data });
  }
  return values;
}

/** Reads and validates manifest.json of a checkpoint directory. */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    throw new CheckpointError(`${dir} is not a model checkpoint (no manifest.json)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${join(dir, 'manifest.json')} is not valid JSON: ${(err as Error).message}`);
  }
  return parseCheckpointManifest(json);
}

/** Reads one section of a checkpoint directory (a device needs only its own). */
export async function loadSection(dir: string, section: string, manifest?: CheckpointManifest): Promise<SectionValues> {
  const m = manifest ?? (await readCheckpointManifest(dir));
  const entry = m.sections.find((s) => s.name === section);
  if (!entry) throw new CheckpointError(`checkpoint has no section ${section}`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(dir, entry.file));
  } catch {
    throw new CheckpointError(`checkpoint file ${entry.file} is missing from ${dir}`);
  }
  return decodeSection(m, section, bytes);
}

/** Builds a model from a validated manifest and its sections' values. */
export function modelFromManifest(m: CheckpointManifest, sections: Map<string, SectionValues>): DdnnModel {
  return {
    architecture: m.architecture as DdnnModel['architecture'],
    topology: parseTopology(m.topology),
    classes: m.classes,
    threshold: m.threshold ?? DEFAULT_THRESHOLD,
    training: m.training as unknown as DdnnModel['training'],
    metrics: m.metrics,
    sections,
  };
}

/** Loads a whole checkpoint directory. */
export async function loadCheckpoint(dir: string): Promise<DdnnModel> {
  const m = await readCheckpointManifest(dir);
  const sections = new Map<string, SectionValues>();
  for (const s of m.sections) sections.set(s.name, await loadSection(dir, s.name, m));
  return modelFromManifest(m, sections);
}
