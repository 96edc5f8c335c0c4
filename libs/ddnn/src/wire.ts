/**
 * Packs +-1 values into bits, LSB-first within each byte: x >= 0 -> 1, x < 0 -> 0 (the wire format of a device's
 * binary feature map, in HWC order; ceil(count / 8) bytes).
 */
export function packSigns(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) if (values[i] >= 0) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** Unpacks `count` bits written by packSigns into +1 / -1 values. */
export function unpackSigns(bytes: Uint8Array, count: number): Float32Array {
  if (bytes.length !== Math.ceil(count / 8)) throw new Error(`feature message has ${bytes.length} bytes, expected ${Math.ceil(count / 8)} for ${count} bits`);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[i >> 3] >> (i & 7)) & 1 ? 1 : -1;
  return out;
}
