import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow';

const BACKENDS: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow'];
const nodeRequire = createRequire(__filename);

function nativeBindingInstalled(): boolean {
  try {
    nodeRequire.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/** The backend DDNN_BACKEND asks for, else tfjs-node when installed, else wasm. */
export function preferredBackend(env: NodeJS.ProcessEnv = process.env): BackendName {
  const requested = env['DDNN_BACKEND']?.trim();
  if (requested) {
    if (!(BACKENDS as readonly string[]).includes(requested)) {
      throw new Error(`DDNN_BACKEND must be one of ${BACKENDS.join(', ')}, got "${requested}"`);
    }
    return requested as BackendName;
  }
  return nativeBindingInstalled() ? 'tensorflow' : 'wasm';
}

let chosen: BackendName | null = null;
/**
 * The initialisation under way: every caller meanwhile waits for it. tfjs drops a setBackend overtaken by another
 * (it returns false), so two runs starting at once (streams resuming after a restart) failed with "failed to
 * initialise". A failed one is forgotten: the next caller tries again.
 */
let initialising: { name: BackendName; done: Promise<BackendName> } | null = null;

/** Initialises the preferred backend unless initBackend already chose one; returns the backend in use. */
export async function ensureBackend(): Promise<BackendName> {
  if (chosen) return chosen;
  return initialising ? initialising.done : initBackend();
}

/** Selects and initialises the tfjs backend once; returns its name. */
export async function initBackend(name: BackendName = preferredBackend()): Promise<BackendName> {
  if (chosen === name) return name;
  if (initialising?.name === name) return initialising.done;
  const before = initialising?.done.catch(() => undefined);
  const done = (async () => {
    await before;
    return setUp(name);
  })();
  const mine = { name, done };
  initialising = mine;
  try {
    return await done;
  } finally {
    if (initialising === mine) initialising = null;
  }
}

async function setUp(name: BackendName): Promise<BackendName> {
  if (chosen === name) return name;
  // PROD silences the cpu backend's console advert for tfjs-node, which would pollute CLI output.
  tf.env().set('PROD', true);
  if (name === 'tensorflow') {
    if (!nativeBindingInstalled()) throw new Error('DDNN_BACKEND=tensorflow needs @tensorflow/tfjs-node, which is not installed');
    // Loading the package registers the native backend with the tfjs instance it shares with us.
    nodeRequire('@tensorflow/tfjs-node');
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  chosen = name;
  return name;
}

export { tf };
