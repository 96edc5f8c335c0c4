import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeSimplePng } from './png-fast';

/** An 8-bit image, interleaved HWC. */
export interface Raster {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** A new black raster. */
export function createRaster(width: number, height: number, channels: number): Raster {
  return { width, height, channels, data: new Uint8Array(width * height * channels) };
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(buf: Uint8Array, magic: number[]): boolean {
  return buf.length >= magic.length && magic.every((b, i) => buf[i] === b);
}

/**
 * Largest image decoded, in pixels (a 64 MP photo). The decoders allocate 4 bytes a pixel before reading a row, so a
 * few hundred bytes of PNG declaring 100,000 x 100,000 would ask for 40 GB: the size in the header is checked first.
 */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/** Decodes a PNG or JPEG (told apart by their signatures, not the file name) to an RGB raster. */
export function decodeImage(buf: Buffer): Raster {
  const declared = headerSize(buf);
  if (declared && declared.width * declared.height > MAX_IMAGE_PIXELS) {
    throw new Error(`image of ${declared.width}x${declared.height} is over ${MAX_IMAGE_PIXELS} pixels`);
  }
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  if (startsWith(buf, PNG_MAGIC)) {
    const simple = decodeSimplePng(buf);
    if (simple) return { width: simple.width, height: simple.height, channels: 3, data: simple.rgb };
    let png;
    try {
      png = PNG.sync.read(buf);
    } catch {
      // pngjs's messages describe its stream machinery ("read requests waitng on finished stream"), not the file.
      throw new Error('truncated or corrupt PNG');
    }
    ({ width, height } = png);
    rgba = png.data;
  } else if (startsWith(buf, JPEG_MAGIC)) {
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
    ({ width, height } = img);
    rgba = img.data;
  } else {
    throw new Error('not a PNG or JPEG file');
  }
  if (width < 1 || height < 1) throw new Error(`empty image (${width}x${height})`);
  const out = createRaster(width, height, 3);
  for (let i = 0, j = 0; i < out.data.length; i += 3, j += 4) {
    out.data[i] = rgba[j];
    out.data[i + 1] = rgba[j + 1];
    out.data[i + 2] = rgba[j + 2];
  }
  return out;
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

/**
 * Bytes of an encoded image at its native size: width x height x channels as stored (PNG colour type; a palette
 * image counts as RGB; JPEG as its component count), x2 for 16-bit PNG. What a camera would offload raw.
 */
export function nativeImageBytes(buf: Uint8Array): number {
  const declared = headerSize(buf);
  if (declared) return declared.width * declared.height * declared.channels * declared.bytesPerChannel;
  const img = decodeImage(Buffer.from(buf));
  return img.width * img.height * img.channels;
}

/**
 * Whether an encoded image is grey as its header declares it (PNG grey or grey + alpha; a one-component JPEG), or
 * null when the header cannot be read. A palette PNG is grey when every colour of its palette is (scanners and
 * image tools write grey scans that way), which its PLTE chunk tells; null when that chunk is not within `buf`.
 */
export function isGreyImage(buf: Uint8Array): boolean | null {
  const declared = headerSize(buf);
  if (!declared) return null;
  if (startsWith(buf, PNG_MAGIC) && buf[25] === PNG_PALETTE) return paletteIsGrey(buf);
  return declared.channels <= 2;
}

const PNG_PALETTE = 3;

/** Whether every entry of a PNG's palette has R = G = B; null when its PLTE chunk is not within `buf`. */
function paletteIsGrey(buf: Uint8Array): boolean | null {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // Chunks: length (4), type (4), data, CRC (4); the palette precedes the first IDAT.
  for (let i = 8; i + 8 <= buf.length; ) {
    const length = view.getUint32(i);
    const type = String.fromCharCode(buf[i + 4], buf[i + 5], buf[i + 6], buf[i + 7]);
    if (type === 'IDAT' || type === 'IEND') return null;
    if (type === 'PLTE') {
      if (i + 8 + length > buf.length) return null;
      for (let p = i + 8; p + 2 < i + 8 + length; p += 3) if (buf[p] !== buf[p + 1] || buf[p] !== buf[p + 2]) return false;
      return true;
    }
    i += 12 + length;
  }
  return null;
}

/**
 * Size and channels as an image's header declares them (PNG: IHDR; JPEG: its start-of-frame marker), without
 * decoding; null when the header cannot be read (the decoder then says why).
 */
function headerSize(buf: Uint8Array): { width: number; height: number; channels: number; bytesPerChannel: number } | null {
  if (startsWith(buf, PNG_MAGIC) && buf.length >= 26) {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20), channels: PNG_CHANNELS[buf[25]] ?? 3, bytesPerChannel: buf[24] === 16 ? 2 : 1 };
  }
  if (startsWith(buf, JPEG_MAGIC)) {
    // Walk the markers to the start of frame (SOF0..SOF15 except DHT 0xc4, JPG 0xc8, DAC 0xcc).
    for (let i = 2; i + 9 < buf.length; ) {
      if (buf[i] !== 0xff) break;
      const marker = buf[i + 1];
      const length = (buf[i + 2] << 8) | buf[i + 3];
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: (buf[i + 5] << 8) | buf[i + 6], width: (buf[i + 7] << 8) | buf[i + 8], channels: buf[i + 9], bytesPerChannel: 1 };
      }
      i += 2 + length;
    }
  }
  return null;
}

/** Encodes a 1- or 3-channel raster as an 8-bit PNG. */
export function encodePng(img: Raster): Buffer {
  if (img.channels !== 1 && img.channels !== 3) throw new Error(`cannot encode ${img.channels} channels as PNG`);
  const colorType = img.channels === 1 ? 0 : 2;
  const png = new PNG({ width: img.width, height: img.height, colorType, inputColorType: colorType, inputHasAlpha: false });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false });
}

/** Converts between grey and RGB (grey is expanded; RGB becomes Rec. 601 luma). */
export function withChannels(img: Raster, channels: number): Raster {
  if (img.channels === channels) return img;
  const out = createRaster(img.width, img.height, channels);
  const n = img.width * img.height;
  if (img.channels === 1 && channels === 3) {
    for (let p = 0; p < n; p++) out.data[3 * p] = out.data[3 * p + 1] = out.data[3 * p + 2] = img.data[p];
  } else if (img.channels === 3 && channels === 1) {
    for (let p = 0; p < n; p++) {
      out.data[p] = Math.round(0.299 * img.data[3 * p] + 0.587 * img.data[3 * p + 1] + 0.114 * img.data[3 * p + 2]);
    }
  } else {
    throw new Error(`cannot convert ${img.channels} channels to ${channels}`);
  }
  return out;
}

/**
 * Bilinear resize with pixel-centre alignment; when shrinking by 2x or more it first averages 2x2 boxes
 * so that small crops of large images do not alias.
 */
export function resizeBilinear(img: Raster, width: number, height: number): Raster {
  if (img.width === width && img.height === height) return img;
  let src = img;
  while (src.width >= 2 * width && src.height >= 2 * height) src = halve(src);
  const c = src.channels;
  const out = createRaster(width, height, c);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), src.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, src.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), src.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, src.width - 1);
      const wx = fx - x0;
      const o = (y * width + x) * c;
      const a = (y0 * src.width + x0) * c;
      const b = (y0 * src.width + x1) * c;
      const d = (y1 * src.width + x0) * c;
      const e = (y1 * src.width + x1) * c;
      for (let k = 0; k < c; k++) {
        const top = src.data[a + k] + (src.data[b + k] - src.data[a + k]) * wx;
        const bottom = src.data[d + k] + (src.data[e + k] - src.data[d + k]) * wx;
        out.data[o + k] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return out;
}

function halve(img: Raster): Raster {
  const w = Math.max(1, img.width >> 1);
  const h = Math.max(1, img.height >> 1);
  const c = img.channels;
  const out = createRaster(w, h, c);
  for (let y = 0; y < h; y++) {
    const ya = Math.min(2 * y, img.height - 1);
    const yb = Math.min(2 * y + 1, img.height - 1);
    for (let x = 0; x < w; x++) {
      const xa = Math.min(2 * x, img.width - 1);
      const xb = Math.min(2 * x + 1, img.width - 1);
      for (let k = 0; k < c; k++) {
        const s =
          img.data[(ya * img.width + xa) * c + k] +
          img.data[(ya * img.width + xb) * c + k] +
          img.data[(yb * img.width + xa) * c + k] +
          img.data[(yb * img.width + xb) * c + k];
        out.data[(y * w + x) * c + k] = (s + 2) >> 2;
      }
    }
  }
  return out;
}

/** The rectangle [x, x+width) x [y, y+height) of an image, clipped to it. */
export function cropRaster(img: Raster, x: number, y: number, width: number, height: number): Raster {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.floor(x + width));
  const y1 = Math.min(img.height, Math.floor(y + height));
  if (x1 <= x0 || y1 <= y0) throw new Error('crop outside the image');
  const c = img.channels;
  const out = createRaster(x1 - x0, y1 - y0, c);
  for (let row = y0; row < y1; row++) {
    out.data.set(img.data.subarray((row * img.width + x0) * c, (row * img.width + x1) * c), (row - y0) * out.width * c);
  }
  return out;
}
