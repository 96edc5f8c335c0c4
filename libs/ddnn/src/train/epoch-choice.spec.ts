import type * as tf from '@tensorflow/tfjs';
import { EpochChoice } from './epoch-choice';
import { oneStandardError } from './threshold';

const values = (epoch: number) => new Map<tf.Variable, Float32Array>([[{} as tf.Variable, Float32Array.of(epoch)]]);

describe('EpochChoice', () => {
  it('keeps the latest epoch within one standard error of the best, and counts patience from the best', () => {
    const choice = new EpochChoice(100);
    const taken: number[] = [];
    const record = (epoch: number, score: number, loss = 1) => choice.record(epoch, { score, loss }, () => (taken.push(epoch), values(epoch)));
    const se = oneStandardError(0.9, 100);
    record(1, 0.8);
    record(2, 0.9);
    record(3, 0.9 - se / 2); // within the error of the best: kept, but not the best
    record(4, 0.9 - 2 * se); // outside: neither
    expect(choice.best).toEqual({ epoch: 2, score: 0.9, loss: 1 });
    expect(choice.chosen?.epoch).toBe(3);
    expect(taken).toEqual([1, 2, 3]);
    expect(choice.patienceRunOut(4, 3)).toBe(false);
    expect(choice.patienceRunOut(5, 3)).toBe(true);
    expect(choice.patienceRunOut(50, 0)).toBe(false);
  });

  it('breaks a tie on the score by the lower loss', () => {
    const choice = new EpochChoice(50);
    choice.record(1, { score: 0.9, loss: 0.5 }, () => values(1));
    choice.record(2, { score: 0.9, loss: 0.7 }, () => values(2));
    expect(choice.best?.epoch).toBe(1);
    choice.record(3, { score: 0.9, loss: 0.4 }, () => values(3));
    expect(choice.best?.epoch).toBe(3);
    expect(choice.chosen?.epoch).toBe(3);
  });

  it('has nothing to stop on before the first validation', () => {
    expect(new EpochChoice(10).patienceRunOut(100, 1)).toBe(false);
  });
});
