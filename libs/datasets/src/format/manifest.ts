import { z } from 'zod';
import { DatasetFormatError } from '../errors';
import type { DatasetManifest } from '../types';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/**
 * A class name as names are compared: NFC. "ñandú" typed on one machine and read from a folder name on another
 * (macOS file systems give NFD) look the same and are one class.
 */
export const normalizeClassName = (name: string): string => name.normalize('NFC');

/** The index of the class called `name` among `classes` (compared NFC-normalized), or -1. */
export function classIndexOf(classes: readonly string[], name: string): number {
  const wanted = normalizeClassName(name);
  return classes.findIndex((c) => normalizeClassName(c) === wanted);
}

/** Whether two class lists name the same classes in the same order (names compared NFC-normalized). */
export function sameClasses(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => normalizeClassName(c) === normalizeClassName(b[i]));
}

const manifestSchema = z
  .object({
    name: z.string().min(1),
    classes: z
      .array(z.string().min(1).regex(/^[^,\r\n"]+$/, 'class names cannot contain commas, quotes or line breaks'))
      .min(2)
      .refine((c) => new Set(c.map(normalizeClassName)).size === c.length, 'class names must be unique (compared NFC-normalized)'),
    views: positiveInt(64),
    height: positiveInt(1024),
    width: positiveInt(1024),
    channels: z.union([z.literal(1), z.literal(3)]),
    augment: z.strictObject({ flip: z.boolean().optional(), shift: z.number().int().min(0).max(64).optional() }).optional(),
  })
  .strict();

/** Checks a parsed manifest.json; `path` names the file in the error. */
export function parseManifest(json: unknown, path: string): DatasetManifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? `field "${issue.path.join('.')}": ` : '';
    throw new DatasetFormatError(path, `malformed manifest: ${where}${issue.message}`);
  }
  return result.data;
}

/** Parses the text of manifest.json. */
export function parseManifestText(text: string, path: string): DatasetManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetFormatError(path, `malformed manifest: not JSON (${(err as Error).message})`);
  }
  return parseManifest(json, path);
}
