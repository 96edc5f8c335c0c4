import { storeView, type Raster } from '@ddnn/datasets';
import type { ViewShape } from '@ddnn/ddnn';
import sharp from 'sharp';

/** Raw 8-bit pixels, interleaved HWC (1 = grey, 3 = RGB, 4 = RGBA). */
export interface RawFrame {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** An encoded image (PNG or JPEG) or raw pixels, as a camera or the integrator's code hands it over. */
export type FrameInput = Buffer | Uint8Array | RawFrame;

const isRaw = (f: FrameInput): f is RawFrame => !(f instanceof Uint8Array);

/** How far ahead of the agent's clock a frame's capture time may be (the camera's clock and this one differ a little). */
export const MAX_CLOCK_AHEAD_MS = 2000;

/**
 * Why a frame captured at `capturedAt` (epoch ms) is not used at `now`: dated further ahead of this clock than
 * MAX_CLOCK_AHEAD_MS; null when it is not. Such a frame would stay "fresh", and the newest, until that time came:
 * pushed an hour ahead, or a file touched an hour ahead in a camera's folder, it was served for an hour and every
 * real frame after it ignored (the server refusing each as captured long after its trigger).
 */
export function aheadOfClock(capturedAt: number, now: number): string | null {
  const ahead = capturedAt - now;
  return ahead > MAX_CLOCK_AHEAD_MS ? `${Math.round(ahead)} ms ahead of this device's clock (at most ${MAX_CLOCK_AHEAD_MS} ms)` : null;
}

/** Largest frame accepted, in pixels (4096x4096; a 4K camera frame is 8.3 M). */
export const MAX_FRAME_PIXELS = 16_777_216;

/** A complete frame with more pixels than MAX_FRAME_PIXELS: it will never decode, however long one waits. */
export class FrameTooLargeError extends Error {
  constructor(size: { width: number; height: number } | null) {
    const of = size ? `${size.width}x${size.height} is ${size.width * size.height} pixels` : 'more pixels than the limit';
    super(`image too large: ${of}, at most ${MAX_FRAME_PIXELS} (4096x4096) are accepted`);
  }
}

// sharp's (libvips') words for limitInputPixels, when the header gave no size to check first.
const SHARP_PIXEL_LIMIT = /exceeds pixel limit/i;

/**
 * Decodes a frame to raw pixels with sharp. A truncated or corrupt image (a file still being written) is an
 * error, never a half-read frame: sharp is told to fail on any decoder warning.
 */
export async function decodeFrame(input: FrameInput): Promise<Raster> {
  let img: sharp.Sharp;
  if (isRaw(input)) {
    const { width, height, channels, data } = input;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`raw frame size ${width}x${height} is not a positive size`);
    if (width * height > MAX_FRAME_PIXELS) throw new FrameTooLargeError({ width, height });
    if (![1, 3, 4].includes(channels)) throw new Error(`raw frame channels must be 1, 3 or 4, got ${channels}`);
    if (data.byteLength !== width * height * channels) throw new Error(`raw frame has ${data.byteLength} bytes, ${width}x${height}x${channels} needs ${width * height * channels}`);
    img = sharp(data, { raw: { width, height, channels } });
  } else {
    if (input.byteLength === 0) throw new Error('empty image');
    // The header alone gives the size: a frame too large is named as such, with its size, before any decoding.
    const header = await sharp(input).metadata().catch(() => null);
    if (header?.width && header.height && header.width * header.height > MAX_FRAME_PIXELS) throw new FrameTooLargeError({ width: header.width, height: header.height });
    img = sharp(input, { failOn: 'warning', limitInputPixels: MAX_FRAME_PIXELS });
  }
  const { data, info } = await img
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((e: unknown) => {
      if (e instanceof Error && SHARP_PIXEL_LIMIT.test(e.message)) throw new FrameTooLargeError(null);
      throw e;
    });
  return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * A decoded frame as the model's input: resized with sharp to the model's view size, then brought to the model's
 * channels and scaled exactly as dataset images are (storeView, libs/datasets: the paper's per-image max scaling).
 */
export async function toModelInput(frame: Raster, shape: ViewShape): Promise<Float32Array> {
  let sized = frame;
  if (frame.width !== shape.width || frame.height !== shape.height) {
    const { data, info } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels as 1 | 3 } })
      .resize(shape.width, shape.height, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    sized = { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  const out = new Float32Array(shape.width * shape.height * shape.channels);
  storeView(sized, shape, out, 0);
  return out;
}
