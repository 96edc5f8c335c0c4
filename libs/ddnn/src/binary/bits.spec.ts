import { appendBits, bytesToWords, popcount32, wordsToBytes } from './bits';
import { packSigns, unpackSigns } from '../wire';
import { seededRandom } from './random-weights';

describe('bit helpers', () => {
  it('counts bits of any 32-bit word', () => {
    const rand = seededRandom(3);
    for (const x of [0, -1, 1, 0x80000000 | 0, 0x7fffffff]) expect(popcount32(x)).toBe((x >>> 0).toString(2).split('1').length - 1);
    for (let k = 0; k < 1000; k++) {
      const x = (rand() * 2 ** 32) | 0;
      expect(popcount32(x)).toBe((x >>> 0).toString(2).split('1').length - 1);
    }
  });

  it.each([1, 7, 8, 9, 31, 32, 33, 64, 1000, 1024])('round-trips %i bits between words and LSB-first bytes', (bits) => {
    const rand = seededRandom(bits);
    const signs = Array.from({ length: bits }, () => rand() < 0.5);
    const words = new Int32Array(Math.ceil(bits / 32));
    let pos = 0;
    for (const s of signs) pos = appendBits(words, pos, s ? 1 : 0, 1);
    const bytes = wordsToBytes(words, bits);
    expect(bytes.length).toBe(Math.ceil(bits / 8));
    signs.forEach((s, i) => expect((bytes[i >> 3] >> (i & 7)) & 1).toBe(s ? 1 : 0));
    expect(Array.from(bytesToWords(bytes, bits))).toEqual(Array.from(words));
    // The same bytes as the model's wire packing, both ways.
    const values = signs.map((s) => (s ? 1 : -1));
    expect(Array.from(packSigns(values))).toEqual(Array.from(bytes));
    expect(Array.from(unpackSigns(bytes, bits))).toEqual(values);
  });

  it('appends chunks that straddle a word boundary', () => {
    const words = new Int32Array(2);
    let pos = appendBits(words, 0, 0b101, 3);
    pos = appendBits(words, 30, 0b1111, 4);
    expect(pos).toBe(34);
    expect(words[0] >>> 0).toBe((0b101 | (0b11 << 30)) >>> 0);
    expect(words[1]).toBe(0b11);
  });
});
