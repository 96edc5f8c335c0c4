// Calibration probe for the synthetic generator (a rough proxy, not the paper's model): one softmax
// regression per camera on 16x16-pooled pixels (missing views are zero images, as the device sees
// them), a fused vote that sums the cameras' log-probabilities over the views present, and one
// regression over all views side by side (like the cloud's concatenation). Plain JS,
// seconds per run. Run:
//   npx ts-node --transpile-only -P tsconfig.base.json libs/datasets/tools/probe.ts DIR [iterations] [pixels|conv]
import { loadDataset } from '../src/format/read';
import { Rng } from '../src/prng';
import { viewPixels, type MultiViewDataset } from '../src/types';

const POOL = 2;
const MODE = process.argv[4] ?? 'pixels';

// Fixed random 3x3 conv filters (seeded): 'conv' mode gives the regression non-linear local features,
// a closer stand-in for a trained conv layer than raw pixels.
const FILTERS = 16;
const filterBank = (() => {
  const rng = new Rng(99);
  return Array.from({ length: FILTERS }, () => Float32Array.from({ length: 27 }, () => rng.normal() / 5));
})();

function convFeatures(ds: MultiViewDataset, n: number, v: number): Float32Array {
  const { height: H, width: W } = ds.manifest;
  const px = viewPixels(ds, n, v);
  const P = 4;
  const out = new Float32Array(FILTERS * (H / P) * (W / P) + 1);
  for (let f = 0; f < FILTERS; f++) {
    const k = filterBank[f];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let acc = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= H) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= W) continue;
            const o = (yy * W + xx) * 3;
            const q = ((dy + 1) * 3 + dx + 1) * 3;
            acc += k[q] * px[o] + k[q + 1] * px[o + 1] + k[q + 2] * px[o + 2];
          }
        }
        const cell = (f * (H / P) + ((y / P) | 0)) * (W / P) + ((x / P) | 0);
        if (acc > out[cell]) out[cell] = acc;
      }
    }
  }
  out[out.length - 1] = 1;
  return out;
}

function features(ds: MultiViewDataset, n: number, v: number): Float32Array {
  if (MODE === 'conv') return convFeatures(ds, n, v);
  const { height: H, width: W, channels: C } = ds.manifest;
  const h = H / POOL;
  const w = W / POOL;
  const px = viewPixels(ds, n, v);
  const f = new Float32Array(h * w * C + 1);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) f[(((y / POOL) | 0) * w + ((x / POOL) | 0)) * C + c] += px[(y * W + x) * C + c] / (POOL * POOL);
  f[f.length - 1] = 1;
  return f;
}

function softmax(z: Float64Array): Float64Array {
  const m = Math.max(...z);
  let s = 0;
  const p = new Float64Array(z.length);
  for (let k = 0; k < z.length; k++) s += p[k] = Math.exp(z[k] - m);
  for (let k = 0; k < z.length; k++) p[k] /= s;
  return p;
}

function train(x: Float32Array[], y: number[], K: number, iters: number, l2: number): Float64Array[] {
  const d = x[0].length;
  const w = Array.from({ length: K }, () => new Float64Array(d));
  const m = new Float64Array(K * d);
  const s = new Float64Array(K * d);
  const lr = 0.01;
  for (let it = 1; it <= iters; it++) {
    const g = Array.from({ length: K }, () => new Float64Array(d));
    for (let i = 0; i < x.length; i++) {
      const p = softmax(Float64Array.from(w, (wk) => wk.reduce((a, b, j) => a + b * x[i][j], 0)));
      for (let k = 0; k < K; k++) {
        const e = (p[k] - (y[i] === k ? 1 : 0)) / x.length;
        for (let j = 0; j < d; j++) g[k][j] += e * x[i][j];
      }
    }
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < d; j++) {
        const gj = g[k][j] + l2 * w[k][j];
        const q = k * d + j;
        m[q] = 0.9 * m[q] + 0.1 * gj;
        s[q] = 0.999 * s[q] + 0.001 * gj * gj;
        w[k][j] -= (lr * (m[q] / (1 - 0.9 ** it))) / (Math.sqrt(s[q] / (1 - 0.999 ** it)) + 1e-8);
      }
    }
  }
  return w;
}

async function main(): Promise<void> {
  const ds = await loadDataset(process.argv[2]);
  const iters = Number(process.argv[3] ?? 150);
  const { views, classes } = ds.manifest;
  const K = classes.length;
  const idx = (split: string) => ds.splits.map((s, i) => (s === split ? i : -1)).filter((i) => i >= 0);
  const trainRows = idx('train');
  const testRows = idx('test');
  const fused = testRows.map(() => new Float64Array(K));
  const alone: number[] = [];
  const onPresent: number[] = [];
  for (let v = 0; v < views; v++) {
    const w = train(trainRows.map((n) => features(ds, n, v)), trainRows.map((n) => ds.labels[n]), K, iters, 1e-3);
    let correct = 0;
    let presentCorrect = 0;
    let present = 0;
    testRows.forEach((n, r) => {
      const f = features(ds, n, v);
      const p = softmax(Float64Array.from(w, (wk) => wk.reduce((a, b, j) => a + b * f[j], 0)));
      const best = p.indexOf(Math.max(...p));
      if (best === ds.labels[n]) correct++;
      if (ds.present[n * views + v]) {
        present++;
        if (best === ds.labels[n]) presentCorrect++;
        for (let k = 0; k < K; k++) fused[r][k] += Math.log(p[k] + 1e-9);
      }
    });
    alone.push(+(correct / testRows.length).toFixed(3));
    onPresent.push(+(presentCorrect / present).toFixed(3));
  }
  // Cloud-like proxy: one regression over all views' features side by side (missing views are zeros).
  const concat = (n: number) => {
    const parts = Array.from({ length: views }, (_, v) => features(ds, n, v));
    const out = new Float32Array(parts.reduce((a, f) => a + f.length, 0));
    let o = 0;
    for (const f of parts) {
      out.set(f, o);
      o += f.length;
    }
    return out;
  };
  const wc = train(trainRows.map(concat), trainRows.map((n) => ds.labels[n]), K, iters, 1e-3);
  const concatAcc =
    testRows.filter((n) => {
      const f = concat(n);
      const z = wc.map((wk) => wk.reduce((a, b, j) => a + b * f[j], 0));
      return z.indexOf(Math.max(...z)) === ds.labels[n];
    }).length / testRows.length;
  const fusedAcc = testRows.filter((n, r) => fused[r].indexOf(Math.max(...fused[r])) === ds.labels[n]).length / testRows.length;
  const majority = Math.max(...classes.map((_, k) => testRows.filter((n) => ds.labels[n] === k).length)) / testRows.length;
  console.log(JSON.stringify({ mode: MODE, iters, alone, onPresent, fused: +fusedAcc.toFixed(3), concat: +concatAcc.toFixed(3), majority: +majority.toFixed(3) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
