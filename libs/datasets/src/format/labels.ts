import { DatasetFormatError } from '../errors';
import type { DatasetManifest, Split } from '../types';
import { abbreviateList } from './list';
import { normalizeClassName } from './manifest';

/** One row of labels.csv. */
export interface LabelRow {
  sample: string;
  split: Split;
  label: number;
}

export const LABELS_HEADER = 'sample,split,label';
const SAMPLE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** True for ids that are safe as folder names and in CSV. */
export function isValidSampleId(id: string): boolean {
  return SAMPLE_ID.test(id) && id.length <= 200;
}

/** Parses labels.csv (header `sample,split,label`), rejecting bad ids, unknown splits/classes and duplicates. */
export function parseLabels(text: string, manifest: DatasetManifest, path: string): LabelRow[] {
  const lines = text.split(/\r?\n/);
  // Editors and scripts often leave blank lines at the end; only a blank line between rows is an error.
  while (lines.length > 1 && lines[lines.length - 1].trim() === '') lines.pop();
  const header = lines[0]?.replace(/^\uFEFF/, '').trim();
  if (header !== LABELS_HEADER) {
    throw new DatasetFormatError(`${path}:1`, `header must be "${LABELS_HEADER}", found "${header ?? ''}"`);
  }
  const classIndex = new Map(manifest.classes.map((c, i) => [normalizeClassName(c), i]));
  const seen = new Map<string, number>();
  const rows: LabelRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const where = `${path}:${i + 1}`;
    const fields = lines[i].split(',').map((f) => f.trim());
    if (fields.length !== 3) throw new DatasetFormatError(where, `expected 3 fields (sample,split,label), found ${fields.length}`);
    const [sample, split, label] = fields;
    if (!isValidSampleId(sample)) {
      throw new DatasetFormatError(where, `bad sample id "${sample}" (letters, digits, _ . - only, not starting with . _ or -)`);
    }
    const first = seen.get(sample);
    if (first !== undefined) throw new DatasetFormatError(where, `duplicate sample "${sample}" (first on line ${first})`);
    seen.set(sample, i + 1);
    if (split !== 'train' && split !== 'test') throw new DatasetFormatError(where, `unknown split "${split}" (train or test)`);
    const cls = classIndex.get(normalizeClassName(label));
    if (cls === undefined) {
      throw new DatasetFormatError(where, `unknown class "${label}" (${manifest.classes.length} classes: ${abbreviateList(manifest.classes.map((c) => `"${c}"`))})`);
    }
    rows.push({ sample, split, label: cls });
  }
  if (rows.length === 0) throw new DatasetFormatError(path, 'no samples');
  return rows;
}

/** The text of labels.csv for the given rows. */
export function formatLabels(rows: readonly LabelRow[], manifest: DatasetManifest): string {
  return [LABELS_HEADER, ...rows.map((r) => `${r.sample},${r.split},${manifest.classes[r.label]}`)].join('\n') + '\n';
}
