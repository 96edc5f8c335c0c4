import { resizeBilinear, withChannels, type Raster } from '../image/raster';
import type { DatasetManifest } from '../types';

/**
 * Brings a decoded image to the manifest's shape and writes it into `target` scaled by its own
 * maximum into [0,1] (the paper's per-image normalisation); an all-black image stays all zero.
 */
export function storeView(img: Raster, manifest: Pick<DatasetManifest, 'width' | 'height' | 'channels'>, target: Float32Array, offset: number): void {
  const shaped = resizeBilinear(withChannels(img, manifest.channels), manifest.width, manifest.height);
  const data = shaped.data;
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  if (max === 0) return;
  const scale = 1 / max;
  for (let i = 0; i < data.length; i++) target[offset + i] = data[i] * scale;
}

/** Float pixels in [0,1] back to an 8-bit raster of the manifest's shape. */
export function toRaster(pixels: Float32Array, manifest: DatasetManifest): Raster {
  const data = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  return { width: manifest.width, height: manifest.height, channels: manifest.channels, data };
}
