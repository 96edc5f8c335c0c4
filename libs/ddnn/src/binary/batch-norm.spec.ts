import { BATCH_NORM_FORMULAS, batchNormChannel, passes, signThreshold } from './batch-norm';
import { seededRandom } from './random-weights';

describe('BatchNorm + sign folded into a threshold', () => {
  const rand = seededRandom(7);
  const f32 = Math.fround;
  const params = (n: number) => ({
    gamma: Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : (rand() - 0.5) * 4)),
    beta: Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : (rand() - 0.5) * 4)),
    mean: Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? Math.round((rand() - 0.5) * 40) : (rand() - 0.5) * 40)),
    variance: Float32Array.from({ length: n }, () => rand() * 30),
  });

  it.each(BATCH_NORM_FORMULAS.map((f) => [f]))('agrees with the formula on every integer conv output (%s)', (formula) => {
    const p = params(60);
    let ups = 0;
    let downs = 0;
    for (let c = 0; c < 60; c++) {
      const bn = batchNormChannel(p, c, 1e-5, formula);
      const t = signThreshold(bn, -36, 36, true);
      if (t.kind === 'up') ups++;
      if (t.kind === 'down') downs++;
      for (let x = -36; x <= 36; x++) expect([c, x, passes(t, x)]).toEqual([c, x, bn(x) >= 0]);
    }
    expect(ups).toBeGreaterThan(0);
    expect(downs).toBeGreaterThan(0);
  });

  it.each(BATCH_NORM_FORMULAS.map((f) => [f]))('agrees with the formula on float32 inputs next to the threshold (%s)', (formula) => {
    const p = params(40);
    for (let c = 0; c < 40; c++) {
      const bn = batchNormChannel(p, c, 1e-5, formula);
      const t = signThreshold(bn, -3.4028234663852886e38, 3.4028234663852886e38, false);
      const probes = [0, -0, 1e-30, -1e-30, 5, -5, 1e20, -1e20];
      if (t.kind === 'up' || t.kind === 'down') {
        // The threshold and its float32 neighbours: where rounding decides.
        const view = new DataView(new ArrayBuffer(4));
        view.setFloat32(0, t.at);
        const bits = view.getInt32(0);
        for (const d of [-2, -1, 1, 2]) {
          view.setInt32(0, bits + d);
          probes.push(view.getFloat32(0));
        }
        probes.push(t.at);
      }
      for (let k = 0; k < 200; k++) probes.push(f32((rand() - 0.5) * 60));
      for (const x of probes) expect([c, x, passes(t, x)]).toEqual([c, x, bn(x) >= 0]);
    }
  });

  it('rejects a negative variance that would make BatchNorm undefined', () => {
    const p = { gamma: new Float32Array([1]), beta: new Float32Array([0]), mean: new Float32Array([0]), variance: new Float32Array([-1]) };
    expect(() => batchNormChannel(p, 0, 1e-5, 'layers')).toThrow(/variance -1/);
  });
});
