import { printableText, type MessageSizes, type MissReason } from '@ddnn/contracts';
import { bytesToScores } from '@ddnn/ddnn';
import { DeviceUnavailableError, MalformedReplyError } from '../devices/transport/device-transport';

/** A device reply that arrived but cannot be used: the wrong size, non-finite values, an absurd latency. */
export class InvalidReplyError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'InvalidReplyError';
  }
}

/** A reported compute time may exceed the round trip the server measured by clock jitter, never by more. */
const LATENCY_SLACK_MS = 10;
const DETAIL_CHARS = 160;

export interface Failure {
  reason: MissReason;
  detail: string;
}

/** A reason's detail as the log keeps it: a few printable words, never a wall of device-supplied text. */
export function shortDetail(message: string): string {
  // Cut first: a cut through a surrogate pair is made printable too.
  return printableText(message.length > DETAIL_CHARS ? `${message.slice(0, DETAIL_CHARS - 1)}…` : message);
}

/** Why a request produced no usable answer, told apart by the error's type (never by its message). */
export function failureOf(e: unknown): Failure {
  const detail = shortDetail(e instanceof Error ? e.message : String(e));
  if (e instanceof DeviceUnavailableError) return { reason: e.reason === 'timeout' ? 'timeout' : 'disconnected', detail };
  if (e instanceof InvalidReplyError || e instanceof MalformedReplyError) return { reason: 'invalid', detail };
  return { reason: 'error', detail };
}

function bytesOf(field: string, v: unknown, expected: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new InvalidReplyError(`${field} is not binary`);
  if (v.byteLength !== expected) throw new InvalidReplyError(`${field} has ${v.byteLength} bytes, the model's message has ${expected}`);
  return v;
}

/** Class scores of the model's size, every one a finite number. */
export function scoresOf(v: unknown, sizes: MessageSizes): Float32Array {
  const scores = bytesToScores(bytesOf('scores', v, sizes.scoresBytes));
  const bad = scores.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new InvalidReplyError(`scores[${bad}] is ${scores[bad]}`);
  return scores;
}

/** A feature map of exactly the model's message size (device features, or an edge node's). */
export function featuresOf(v: unknown, bytes: number | undefined): Uint8Array {
  if (bytes === undefined) throw new InvalidReplyError('features sent where the model has no such message');
  return bytesOf('features', v, bytes);
}

/** A compute time that is a finite number, not negative, and not longer than the request took. */
export function latencyOf(v: unknown, elapsedMs: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidReplyError(`latency ${String(v)} is not a finite number >= 0`);
  if (v > elapsedMs + LATENCY_SLACK_MS) {
    throw new InvalidReplyError(`latency ${v} ms is longer than the ${Math.ceil(elapsedMs)} ms the request took`);
  }
  return v;
}

/** A reply that names a sample answers that sample; older devices name none. */
export function checkEcho(v: unknown, sampleIndex: number): void {
  if (v !== undefined && v !== sampleIndex) throw new InvalidReplyError(`answers sample ${String(v)}, asked for sample ${sampleIndex}`);
}

/**
 * The path of the first number in an event payload that is not finite, or null (NaN never reaches the log).
 * Every event of every sample passes here: the walk allocates nothing (no entries arrays, no path strings)
 * unless it finds a bad number, and only then builds the path on the way back up.
 */
export function nonFinitePath(value: unknown, path = 'data'): string | null {
  const bad = badSteps(value);
  return bad === null ? null : path + bad.reverse().join('');
}

/** The steps (innermost first) to the first non-finite number under `value`, or null. */
function badSteps(value: unknown): string[] | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : [];
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      // Most arrays in events are probabilities: test their numbers inline.
      if (typeof v === 'number' ? Number.isFinite(v) : badSteps(v) === null) continue;
      const steps = typeof v === 'number' ? [] : (badSteps(v) as string[]);
      steps.push(`[${i}]`);
      return steps;
    }
    return null;
  }
  const record = value as Record<string, unknown>;
  for (const k in record) {
    if (!Object.prototype.hasOwnProperty.call(record, k)) continue;
    const steps = badSteps(record[k]);
    if (steps) {
      steps.push(`.${k}`);
      return steps;
    }
  }
  return null;
}
