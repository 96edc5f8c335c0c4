import type { AgentFault } from './options';

/** float32 little-endian bytes of `values`. */
function floats(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return out;
}

/**
 * The replies of a device with broken firmware, one kind after another: wrong lengths, empty, NaN and
 * infinite scores, features of the wrong size, an absurd latency, missing fields, not an object at all.
 */
const GARBAGE: ((stage: string) => unknown)[] = [
  (stage) => (stage === 'scores' ? { ok: true, scores: floats([1, 2, 3, 4, 5]), latencyMs: 1 } : { ok: true, features: new Uint8Array(3), latencyMs: 1 }),
  (stage) => (stage === 'scores' ? { ok: true, scores: new Uint8Array(0), latencyMs: 1 } : { ok: true, features: new Uint8Array(0), latencyMs: 1 }),
  (stage) => (stage === 'scores' ? { ok: true, scores: floats([NaN, 0, 1]), latencyMs: 1 } : { ok: true, features: new Uint8Array(100_000), latencyMs: 1 }),
  (stage) => (stage === 'scores' ? { ok: true, scores: floats([Infinity, -Infinity, 0]), latencyMs: 1 } : { ok: true, features: new Uint8Array(128), latencyMs: 1e308 }),
  () => ({ ok: true, latencyMs: 1 }),
  () => 'not an object',
  (stage) => (stage === 'scores' ? { ok: true, scores: floats([0.1, 0.2, 0.3]), latencyMs: 1e308 } : { ok: true, features: 'bytes?', latencyMs: 1 }),
];

/**
 * Wraps the agent's infer handler with a deliberate fault. `next` computes the honest reply; the fault
 * decides what is sent instead (or kills the process before anything is sent).
 */
export function faultyInfer(fault: AgentFault): (payload: unknown, honest: () => Promise<unknown>) => Promise<unknown> {
  let requests = 0;
  return async (payload, honest) => {
    requests++;
    if (fault.kind === 'crash') {
      if (requests >= fault.atRequest) process.kill(process.pid, 'SIGKILL');
      return honest();
    }
    const stage = (payload as { stage?: unknown } | null)?.stage;
    const make = GARBAGE[(requests - 1) % GARBAGE.length];
    await honest(); // computed as a real device would, then thrown away
    return make(typeof stage === 'string' ? stage : 'scores');
  };
}
