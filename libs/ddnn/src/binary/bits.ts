// Bit-level helpers shared by the binary kernels. Words are int32 (JS bitwise ops are 32-bit signed);
// bit i of a bit stream lives in word i >>> 5 at position i & 31, the same order as the wire format's
// LSB-first bytes, so a stream converts to bytes without reordering.

/** Number of set bits of a 32-bit word (SWAR: no table lookups, no allocation). */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Words needed for `bits` bits. */
export function wordsFor(bits: number): number {
  return (bits + 31) >>> 5;
}

/** A word whose low `n` bits are set (n in 0..32). */
export function lowMask(n: number): number {
  return n >= 32 ? -1 : (1 << n) - 1;
}

/**
 * ORs the low `n` bits of `value` (n <= 32) into `words` starting at bit `pos`; the bits must be clear.
 * Returns the next bit position.
 */
export function appendBits(words: Int32Array, pos: number, value: number, n: number): number {
  const w = pos >>> 5;
  const s = pos & 31;
  words[w] |= value << s;
  if (s !== 0 && s + n > 32) words[w + 1] |= value >>> (32 - s);
  return pos + n;
}

/** Copies a bit stream (int32 words) into LSB-first bytes: exactly ceil(bits / 8) of them. */
export function wordsToBytes(words: Int32Array, bits: number, out: Uint8Array = new Uint8Array((bits + 7) >>> 3)): Uint8Array {
  const n = (bits + 7) >>> 3;
  for (let i = 0; i < n; i++) out[i] = (words[i >>> 2] >>> ((i & 3) << 3)) & 0xff;
  const rest = bits & 7;
  if (rest !== 0) out[n - 1] &= (1 << rest) - 1;
  return out;
}

/** Reads LSB-first bytes into a bit stream of int32 words (endianness-independent). */
export function bytesToWords(bytes: Uint8Array, bits: number, out: Int32Array = new Int32Array(wordsFor(bits))): Int32Array {
  out.fill(0);
  const n = (bits + 7) >>> 3;
  for (let i = 0; i < n; i++) out[i >>> 2] |= bytes[i] << ((i & 3) << 3);
  const rest = bits & 31;
  if (rest !== 0) out[out.length - 1] &= lowMask(rest);
  return out;
}

/** Reads `n` bits (n <= 32) of a bit stream starting at bit `pos`. */
export function extractBits(words: Int32Array, pos: number, n: number): number {
  const w = pos >>> 5;
  const s = pos & 31;
  let v = words[w] >>> s;
  if (s !== 0 && s + n > 32) v |= words[w + 1] << (32 - s);
  return v & lowMask(n);
}
