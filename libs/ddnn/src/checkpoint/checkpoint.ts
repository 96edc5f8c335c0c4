import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readRegularFile, UnreadableFileError } from '@ddnn/datasets';
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

/** A manifest is a few kB of JSON (15 kB for six devices); anything far larger is not one and is not read into memory. */
export const MAX_CHECKPOINT_MANIFEST_BYTES = 1024 * 1024;

/** The files a checkpoint folder holds: its manifest (and the one saveCheckpoint renames into place) and section weights. */
const CHECKPOINT_FILE = /^(manifest\.json(\.tmp)?|[\w.-]+\.bin)$/;

/** Options for writing a checkpoint folder. */
export interface SaveOptions {
  /** Replace a checkpoint already in the folder (a folder holding anything else is never written into). */
  overwrite?: boolean;
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

/**
 * The checkpoint files already in `dir` (none when it is absent or empty), after refusing a folder that holds anything
 * else (a dataset, a source tree: writing there scattered a manifest and weights among its files) and, unless
 * overwrite is set, one that holds a checkpoint. A command checks before it trains, saveCheckpoint again before it writes.
 */
export async function checkCheckpointTarget(dir: string, options: SaveOptions = {}): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new CheckpointError(`${dir} is a file, not a checkpoint folder`);
    throw err;
  }
  const others = entries.filter((f) => !CHECKPOINT_FILE.test(f)).sort();
  if (others.length) {
    const shown = others.slice(0, 3).join(', ') + (others.length > 3 ? `, ... (${others.length} entries)` : '');
    throw new CheckpointError(`${dir} is not empty and not a checkpoint folder (it holds ${shown}): a checkpoint is written into a new or empty folder`);
  }
  if (entries.length && !options.overwrite) throw new CheckpointError(`${dir} already holds a checkpoint; pass overwrite (--force) to replace it`);
  return entries;
}

/** Writes a checkpoint directory: manifest.json + one `<section>.bin` (float32 little-endian) per section. */
export async function saveCheckpoint(dir: string, model: DdnnModel, options: SaveOptions = {}): Promise<void> {
  const { manifest, files } = encodeCheckpoint(model);
  const old = await checkCheckpointTarget(dir, options);
  // The old manifest first: while it names weights being replaced, the folder would look complete.
  await rm(join(dir, 'manifest.json'), { force: true });
  for (const file of old) await rm(join(dir, file), { force: true });
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
    for (let i = 0; i < data.length; i++) {
      data[i] = view.getFloat32(t.offset + 4 * i, true);
      // A NaN or infinite weight (a training that diverged, a damaged file) yields non-finite scores that the
      // event log refuses: the model is refused here, where the tensor can be named.
      if (!Number.isFinite(data[i])) throw new CheckpointError(`${entry.file}: section ${section} tensor ${t.name} holds ${data[i]} at index ${i}`);
    }
    values.set(t.name, { shape: t.shape, data });
  }
  return values;
}

/** Reads and validates manifest.json of a checkpoint directory. */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = (await readRegularFile(path, MAX_CHECKPOINT_MANIFEST_BYTES)).toString('utf8');
  } catch (err) {
    if (err instanceof UnreadableFileError) throw new CheckpointError(`${path} cannot be a checkpoint manifest: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CheckpointError(`${dir} is not a model checkpoint (no manifest.json)`);
    throw new CheckpointError(`${path} cannot be read (${code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the text: whatever the file holds stays out of the error.
    throw new CheckpointError(`${path} is not valid JSON`);
  }
  return parseCheckpointManifest(json);
}

/** Reads one section of a checkpoint directory (a device needs only its own). */
export async function loadSection(dir: string, section: string, manifest?: CheckpointManifest): Promise<SectionValues> {
  const m = manifest ?? (await readCheckpointManifest(dir));
  const entry = m.sections.find((s) => s.name === section);
  if (!entry) throw new CheckpointError(`checkpoint has no section ${section}`);
  const path = join(dir, entry.file);
  let bytes: Uint8Array;
  try {
    // No more than the manifest says: a link to /dev/zero or a huge file is refused before it is read.
    bytes = await readRegularFile(path, entry.bytes);
  } catch (err) {
    if (err instanceof UnreadableFileError) {
      const st = await stat(path).catch(() => null);
      if (st?.isFile()) throw new CheckpointError(`${entry.file} has ${st.size} bytes, the manifest says ${entry.bytes}`);
      throw new CheckpointError(`checkpoint file ${path} cannot be read: ${err.message}`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CheckpointError(`checkpoint file ${entry.file} is missing from ${dir}`);
    throw new CheckpointError(`checkpoint file ${path} cannot be read (${code ?? (err as Error).message})`);
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
