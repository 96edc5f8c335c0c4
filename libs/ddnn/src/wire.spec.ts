import { packSigns, unpackSigns } from './wire';

describe('wire bit-packing', () => {
  it('packs +1 as 1 and -1 as 0, LSB first, in ceil(n/8) bytes', () => {
    const bytes = packSigns([1, -1, -1, 1, 1, 1, -1, -1, 1, -1]);
    expect(Array.from(bytes)).toEqual([0b00111001, 0b00000001]);
  });

  it('round-trips +-1 values and treats 0 as +1 (sign(0) = +1)', () => {
    const values = Float32Array.from({ length: 77 }, (_, i) => ((i * 7919) % 3 === 0 ? -1 : 1));
    expect(Array.from(unpackSigns(packSigns(values), 77))).toEqual(Array.from(values));
    expect(Array.from(unpackSigns(packSigns([0, -0.5]), 2))).toEqual([1, -1]);
  });

  it('rejects a message of the wrong length', () => {
    expect(() => unpackSigns(new Uint8Array(2), 17)).toThrow(/expected 3/);
  });
});
