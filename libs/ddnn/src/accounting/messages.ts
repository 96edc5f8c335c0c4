import type { MessageSizes } from '@ddnn/contracts';

// Exact sizes of what crosses the network in a DDNN, and the paper's per-sample cost
// c = 4|C| + (1 - l) * f * o / 8 per device (Teerapittayanon et al., ICDCS 2017, section on communication).

function positiveInteger(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}

/** Bytes of one class-score message: |C| float32 values. */
export function scoreMessageBytes(classes: number): number {
  positiveInteger('classes', classes);
  return 4 * classes;
}

/** Bytes of one binary feature map message: f maps of o pixels at one bit each, rounded up to bytes. */
export function featureMessageBytes(filters: number, pixels: number): number {
  positiveInteger('filters', filters);
  positiveInteger('pixels', pixels);
  return Math.ceil((filters * pixels) / 8);
}

/** Bytes of one raw view offloaded as 8-bit pixels: H * W * C. */
export function rawViewBytes(height: number, width: number, channels: number): number {
  positiveInteger('height', height);
  positiveInteger('width', width);
  positiveInteger('channels', channels);
  return height * width * channels;
}

/** Feature map shape [height, width, channels], as `topologyShapes` gives it. */
type Shape = readonly [number, number, number];

/**
 * The size of every message a session with this model sends: what the runner logs per message and what
 * analysis counts (SessionStarted.messageSizes). A reply of any other size is not this model's message.
 */
export function modelMessageSizes(shapes: { input: Shape; classes: number; deviceFeatures: Shape; edgeFeatures: readonly Shape[] }): MessageSizes {
  const features = (s: Shape) => featureMessageBytes(s[2], s[0] * s[1]);
  return {
    scoresBytes: scoreMessageBytes(shapes.classes),
    featuresBytes: features(shapes.deviceFeatures),
    rawBytes: rawViewBytes(shapes.input[0], shapes.input[1], shapes.input[2]),
    ...(shapes.edgeFeatures.length ? { edgeFeaturesBytes: features(shapes.edgeFeatures[0]) } : {}),
  };
}

/** What one end device emits: |C| scores and an f-channel binary map of o pixels per channel. */
export interface DeviceMessages {
  classes: number;
  filters: number;
  pixels: number;
}

/**
 * Bytes one device sends for one sample: scores always; features only when the sample continues past
 * the local exit; nothing at all from a dead device.
 */
export function deviceSampleBytes(device: DeviceMessages, exitedLocally: boolean, alive = true): number {
  if (!alive) return 0;
  const scores = scoreMessageBytes(device.classes);
  return exitedLocally ? scores : scores + featureMessageBytes(device.filters, device.pixels);
}

/** Bytes all devices send for one sample, given its exit decision and which devices are alive. */
export function sampleBytes(devices: readonly DeviceMessages[], exitedLocally: boolean, alive?: readonly boolean[]): number {
  if (alive && alive.length !== devices.length) throw new Error(`alive has ${alive.length} entries for ${devices.length} devices`);
  return devices.reduce((sum, d, i) => sum + deviceSampleBytes(d, exitedLocally, alive ? alive[i] : true), 0);
}

/** Per-sample communication over a set of exit decisions (one per sample). */
export interface CommunicationSummary {
  samples: number;
  localExitRate: number;
  totalBytes: number;
  bytesPerSample: number;
  rawBytesPerSample: number;
  /** rawBytesPerSample / bytesPerSample. */
  commReduction: number;
}

/**
 * Sums the exact bytes of every message for the given per-sample exit decisions, against offloading
 * every alive device's raw view (`rawBytesPerView` each) for every sample.
 */
export function summarizeCommunication(
  devices: readonly DeviceMessages[],
  exitedLocally: readonly boolean[],
  rawBytesPerView: number,
  alive?: readonly boolean[],
): CommunicationSummary {
  const samples = exitedLocally.length;
  if (samples === 0) throw new Error('summarizeCommunication: no samples');
  positiveInteger('rawBytesPerView', rawBytesPerView);
  let totalBytes = 0;
  let local = 0;
  for (const exited of exitedLocally) {
    totalBytes += sampleBytes(devices, exited, alive);
    if (exited) local++;
  }
  const aliveCount = alive ? alive.filter(Boolean).length : devices.length;
  const bytesPerSample = totalBytes / samples;
  const rawBytesPerSample = aliveCount * rawBytesPerView;
  return {
    samples,
    localExitRate: local / samples,
    totalBytes,
    bytesPerSample,
    rawBytesPerSample,
    commReduction: bytesPerSample > 0 ? rawBytesPerSample / bytesPerSample : Infinity,
  };
}

/** The paper's expected cost per device and sample, c = 4|C| + (1 - l) * f * o / 8, for local exit rate l. */
export function expectedDeviceBytes(device: DeviceMessages, localExitRate: number): number {
  if (!(localExitRate >= 0 && localExitRate <= 1)) throw new Error(`local exit rate must be in [0, 1], got ${localExitRate}`);
  return scoreMessageBytes(device.classes) + (1 - localExitRate) * featureMessageBytes(device.filters, device.pixels);
}

/** How many times fewer bytes than offloading raw views. */
export function commReduction(rawBytes: number, bytes: number): number {
  if (!(bytes > 0)) throw new Error(`bytes must be positive, got ${bytes}`);
  return rawBytes / bytes;
}
