import { readFile } from 'node:fs/promises';
import type { Aggregator, Topology } from '@ddnn/ddnn';

/** Parses an integer flag, naming the flag in the error. */
export function intFlag(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${value}"`);
    return n;
  };
}

/** A path flag: an empty one resolves to the current folder, and a command would read or write there. */
export function pathFlag(name: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new Error(`${name} must name a file or folder, got ""`);
    return value;
  };
}

/** Parses a number flag within [min, max]. */
export function numberFlag(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= min && n <= max)) throw new Error(`${name} must be a number in [${min}, ${max}], got "${value}"`);
    return n;
  };
}

/** Parses a comma-separated list of non-negative integers such as "0,1,2". */
export function listFlag(name: string): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const nums = parts.map(Number);
    if (nums.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`${name} must be a comma-separated list of device indices, got "${value}"`);
    return nums;
  };
}

/** An aggregator flag in upper case; topologyFromFlags checks it against the model's list (loading the model library only when a command runs). */
export function aggregatorFlag(): (value: string) => Aggregator {
  return (value) => value.toUpperCase() as Aggregator;
}

export interface TopologyFlags {
  topology?: string;
  devices?: number[];
  deviceBlocks?: number;
  deviceFilters?: number;
  localAgg?: Aggregator;
  cloudAgg?: Aggregator;
}

/** The topology from --topology FILE (if given) with the individual flags applied on top. */
export async function topologyFromFlags(flags: TopologyFlags, defaults?: object): Promise<Topology> {
  const { AGGREGATORS, parseTopology } = await import('@ddnn/ddnn');
  for (const [name, value] of [['--local-agg', flags.localAgg], ['--cloud-agg', flags.cloudAgg]] as const) {
    if (value !== undefined && !(AGGREGATORS as readonly string[]).includes(value)) throw new Error(`${name} must be one of ${AGGREGATORS.join(', ')}, got "${value}"`);
  }
  let base: Record<string, unknown> = { ...(defaults ?? {}) };
  if (flags.topology) {
    let text: string;
    try {
      text = await readFile(flags.topology, 'utf8');
    } catch {
      throw new Error(`cannot read topology file ${flags.topology}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`topology file ${flags.topology} is not valid JSON: ${(err as Error).message}`);
    }
    // Spread into the flags below, an array or a number would silently become the default topology.
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`topology file ${flags.topology} must hold a JSON object of topology fields (devices, device, local, edges, cloud, exitWeights), got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`}`);
    }
    base = parsed as Record<string, unknown>;
  }
  const merged: Record<string, unknown> = { ...base };
  if (flags.devices) merged['devices'] = flags.devices;
  if (flags.deviceBlocks !== undefined || flags.deviceFilters !== undefined) {
    const device = { ...((base['device'] as object | undefined) ?? {}) } as Record<string, unknown>;
    if (flags.deviceBlocks !== undefined) device['blocks'] = flags.deviceBlocks;
    if (flags.deviceFilters !== undefined) device['filters'] = flags.deviceFilters;
    merged['device'] = device;
  }
  if (flags.localAgg) merged['local'] = { ...((base['local'] as object | undefined) ?? {}), aggregator: flags.localAgg };
  if (flags.cloudAgg) merged['cloud'] = { ...((base['cloud'] as object | undefined) ?? {}), aggregator: flags.cloudAgg };
  try {
    return parseTopology(merged);
  } catch (err) {
    if (flags.topology) throw new Error(`topology file ${flags.topology}: ${(err as Error).message}`);
    throw err;
  }
}
