import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../format/read';
import { CAMERAS, CLASS_PRIORS, EXPECTED_MISSING_RATES } from './cameras';
import { synthManifest, synthSamples, synthSplits, writeSynthDataset } from './generate';
import { sampleScene } from './scene';

function bytesOf(samples: ReturnType<typeof synthSamples>): string[] {
  const out: string[] = [];
  for (const s of samples) out.push(`${s.id}|${s.split}|${s.label}|` + s.views.map((v) => (v ? Buffer.from(v.data).toString('base64') : '-')).join('|'));
  return out;
}

jest.setTimeout(180_000);

describe('synthetic multi-camera generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = bytesOf(synthSamples({ samples: 6, seed: 5 }));
    const b = bytesOf(synthSamples({ samples: 6, seed: 5 }));
    const c = bytesOf(synthSamples({ samples: 6, seed: 6 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('renders sample i the same whatever the dataset size', () => {
    const small = [...synthSamples({ samples: 4, seed: 3 })];
    const large = [...synthSamples({ samples: 9, seed: 3 })];
    for (let i = 0; i < 4; i++) {
      expect(large[i].label).toBe(small[i].label);
      expect(large[i].views.map((v) => v && Buffer.from(v.data).toString('base64'))).toEqual(small[i].views.map((v) => v && Buffer.from(v.data).toString('base64')));
    }
  });

  it('splits 680/851 for training like MVMC', () => {
    const splits = synthSplits(851, 1);
    expect(splits.filter((s) => s === 'train').length).toBe(680);
    expect(splits.filter((s) => s === 'test').length).toBe(171);
  });

  it('draws classes and missing views at the documented rates (layouts of 4,000 samples)', () => {
    const n = 4000;
    const classes = [0, 0, 0];
    const missing = new Array(CAMERAS.length).fill(0);
    for (let i = 0; i < n; i++) {
      const scene = sampleScene(11, i, CAMERAS.length);
      classes[scene.label]++;
      scene.views.forEach((v, k) => (missing[k] += v ? 0 : 1));
      expect(scene.views.some((v) => v !== null)).toBe(true);
    }
    // Binomial standard error at n=4000 is at most 0.8 points: allow about 3.
    classes.forEach((c, k) => expect(Math.abs(c / n - CLASS_PRIORS[k])).toBeLessThan(0.025));
    missing.forEach((m, k) => expect(Math.abs(m / n - EXPECTED_MISSING_RATES[k])).toBeLessThan(0.025));
  });

  it('rejects view counts the scene has no cameras for', () => {
    expect(() => [...synthSamples({ samples: 3, views: 7 })]).toThrow(/views must be 1\.\.6/);
  });

  it('writes a folder that loads back with crops of varied content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ddnn-synth-'));
    try {
      await writeSynthDataset(dir, { samples: 20, views: 6, seed: 2 });
      const ds = await loadDataset(dir);
      expect(ds.manifest).toMatchObject({ classes: ['car', 'bus', 'person'], views: 6, height: 32, width: 32, channels: 3 });
      expect(ds.sampleIds).toHaveLength(20);
      for (let n = 0; n < 20; n++) {
        let seen = 0;
        for (let v = 0; v < 6; v++) {
          const base = (n * 6 + v) * 3072;
          const view = ds.pixels.subarray(base, base + 3072);
          if (!ds.present[n * 6 + v]) {
            expect(view.every((x) => x === 0)).toBe(true);
            continue;
          }
          seen++;
          const mean = view.reduce((s, x) => s + x, 0) / view.length;
          const sd = Math.sqrt(view.reduce((s, x) => s + (x - mean) ** 2, 0) / view.length);
          expect(Math.max(...view)).toBeCloseTo(1, 5);
          expect(sd).toBeGreaterThan(0.03);
        }
        expect(seen).toBeGreaterThan(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders the rich mode: ten colour-and-kind classes at 24x24, deterministic per sample', async () => {
    expect(synthManifest({ mode: 'rich' })).toMatchObject({ name: 'synthetic-multicam-rich-seed1', views: 6, height: 24, width: 24, channels: 3 });
    expect(synthManifest({ mode: 'rich' }).classes).toHaveLength(10);
    const samples = [...synthSamples({ mode: 'rich', samples: 30, seed: 3 })];
    expect(new Set(samples.map((s) => s.label)).size).toBeGreaterThanOrEqual(8);
    for (const s of samples) for (const v of s.views) if (v) expect([v.width, v.height]).toEqual([24, 24]);
    const again = [...synthSamples({ mode: 'rich', samples: 30, seed: 3 })];
    expect(again.map((s) => s.label)).toEqual(samples.map((s) => s.label));
    expect(() => synthManifest({ mode: 'huge' as never })).toThrow(/mode/);
  });
});
