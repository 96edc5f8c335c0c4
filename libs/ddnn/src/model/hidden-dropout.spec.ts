import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { exitHead, type SectionTensors } from './forward';

beforeAll(async () => {
  await initBackend('wasm');
});

/** A float head: 4 features -> hidden 64 (identity-ish BN) -> 2 classes. */
function head(): SectionTensors {
  const rng = new Rng(7);
  const w = Float32Array.from({ length: 4 * 64 }, () => rng.normal());
  const fc = Float32Array.from({ length: 64 * 2 }, () => rng.normal());
  const bn = (n: number, prefix: string) => ({
    [`${prefix}.bn.gamma`]: tf.ones([n]),
    [`${prefix}.bn.beta`]: tf.zeros([n]),
    [`${prefix}.bn.mean`]: tf.zeros([n]),
    [`${prefix}.bn.variance`]: tf.ones([n]),
  });
  return { 'hidden0.w': tf.tensor2d(w, [4, 64]), ...bn(64, 'hidden0'), 'fc.w': tf.tensor2d(fc, [64, 2]), ...bn(2, 'fc') };
}

describe('drop-out in the float hidden layers', () => {
  const x = () => tf.tensor2d(Float32Array.from({ length: 32 * 4 }, (_, i) => Math.sin(i)), [32, 4]);
  const float = { precision: 'float' as const };

  it('changes training outputs, reproducibly for a seed, and never inference', () => {
    const w = head();
    const plain = exitHead(x(), w, 'cloud', { training: true }, float, 1).arraySync();
    const dropped = (seed: number) => exitHead(x(), w, 'cloud', { training: true, hiddenDropout: { rate: 0.5, rng: new Rng(seed) } }, float, 1).arraySync();
    expect(dropped(1)).not.toEqual(plain);
    expect(dropped(1)).toEqual(dropped(1));
    expect(dropped(1)).not.toEqual(dropped(2));
    const infer = (mode: Parameters<typeof exitHead>[3]) => exitHead(x(), w, 'cloud', mode, float, 1).arraySync();
    expect(infer({ training: false, hiddenDropout: { rate: 0.5, rng: new Rng(1) } })).toEqual(infer({ training: false }));
    // rate 0 is no drop-out at all
    expect(exitHead(x(), w, 'cloud', { training: true, hiddenDropout: { rate: 0, rng: new Rng(1) } }, float, 1).arraySync()).toEqual(plain);
  });
});
