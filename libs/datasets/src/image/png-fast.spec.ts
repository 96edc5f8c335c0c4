import { PNG, type ColorType } from 'pngjs';
import { Rng } from '../prng';
import { decodeSimplePng } from './png-fast';

function encode(width: number, height: number, colorType: ColorType, fill: (i: number) => number, bitDepth: 8 | 16 = 8): Buffer {
  const png = new PNG({ width, height, colorType, inputColorType: 6, inputHasAlpha: true, bitDepth });
  for (let i = 0; i < width * height * 4; i++) png.data[i] = fill(i);
  return PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true, bitDepth });
}

describe('fast PNG path', () => {
  const rng = new Rng(3);
  const cases: [string, ColorType][] = [['grey', 0], ['rgb', 2], ['grey+alpha', 4], ['rgba', 6]];
  for (const [name, colorType] of cases) {
    it(`matches the general decoder for 8-bit ${name} (smooth and noisy content)`, () => {
      for (const fill of [(i: number) => (i * 7) % 256, () => rng.int(256), (i: number) => (i >> 6) & 255]) {
        const buf = encode(17, 13, colorType, fill);
        const ref = PNG.sync.read(buf);
        const got = decodeSimplePng(buf);
        expect(got).not.toBeNull();
        expect(got?.width).toBe(17);
        for (let p = 0; p < 17 * 13; p++) for (let k = 0; k < 3; k++) expect(got?.rgb[3 * p + k]).toBe(ref.data[4 * p + k]);
      }
    });
  }

  it('declines 16-bit and damaged files so the general decoder handles them', () => {
    expect(decodeSimplePng(encode(4, 4, 2, () => 9, 16))).toBeNull();
    const ok = encode(4, 4, 2, () => 9);
    expect(decodeSimplePng(ok.subarray(0, 40))).toBeNull();
  });
});
