import { constants as bufferConstants } from 'node:buffer';
import type { BackendName } from '../backend';
import type { Topology } from '../model/topology';

/**
 * The tfjs wasm backend keeps every tensor in one 32-bit WebAssembly memory: 4 GiB at most, and growing past it
 * fails deep inside a kernel as "memory access out of bounds".
 */
export const TFJS_WASM_MAX_BYTES = 2 ** 32;

/** What the memory check needs to know of the data: the view shape and how many samples each pass takes. */
export interface TrainingMemoryInput {
  height: number;
  width: number;
  channels: number;
  /** Samples per optimizer step. */
  batchSize: number;
  /** Samples of the training split: the BatchNorm calibration after training runs them forward in one pass. */
  trainSamples: number;
}

export interface TrainingMemory {
  /** Bytes of one optimizer step: inputs, the first ConvP's weight-gradient patches, output and output gradient. */
  stepBytes: number;
  /** Bytes of the forward pass over the whole training split (the final BatchNorm calibration). */
  calibrationBytes: number;
  /** The larger of the two: what tfjs must hold at once. */
  peakBytes: number;
  /** The largest single tensor (the weight-gradient patches of one device's batch). */
  largestTensorBytes: number;
}

/**
 * Estimates the tfjs memory a training run of `topology` needs at its peak. Only the full-resolution tensors of the
 * first device ConvP count (every later map is pooled to a quarter or less): per captured pixel of every device view,
 * the input and its padded transpose (2C values), the 3x3 patches of the weight gradient (9C) and the conv output
 * and its gradient (2f). It is a lower bound of what tfjs allocates, so a run it refuses cannot fit.
 */
export function trainingMemory(topology: Topology, input: TrainingMemoryInput): TrainingMemory {
  const { height, width, channels: c } = input;
  const f = topology.device.filters[0];
  const pixels = height * width * topology.devices.length;
  const batch = Math.max(1, Math.min(input.batchSize, input.trainSamples));
  const stepBytes = 4 * batch * pixels * (2 * c + 9 * c + 2 * f);
  const calibrationBytes = 4 * input.trainSamples * pixels * (c + f);
  return { stepBytes, calibrationBytes, peakBytes: Math.max(stepBytes, calibrationBytes), largestTensorBytes: 4 * batch * height * width * 9 * c };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/**
 * Refuses, before any data is loaded or any tensor made, a training run that cannot fit in what tfjs can allocate:
 * on wasm its 4 GiB memory, on every backend one typed array (the largest tensor). The message names the limit and
 * what to change.
 */
export function checkTrainingMemory(topology: Topology, input: TrainingMemoryInput, backend: BackendName): void {
  const need = trainingMemory(topology, input);
  const shape = `${topology.devices.length} views of ${input.height}x${input.width}x${input.channels}`;
  const fixes = 'smaller images (ddnn dataset split-grid --size), fewer views (--devices)';
  if (backend === 'wasm' && need.peakBytes > TFJS_WASM_MAX_BYTES) {
    const calibrationBound = need.calibrationBytes >= need.stepBytes;
    const batch = Math.max(1, Math.min(input.batchSize, input.trainSamples));
    const what = calibrationBound
      ? `its forward pass over all ${input.trainSamples} training samples (${shape}) needs at least ${gib(need.peakBytes)}`
      : `one step of ${batch} sample${batch === 1 ? '' : 's'} (${shape}) needs at least ${gib(need.peakBytes)}`;
    const smaller = calibrationBound ? 'fewer training samples' : batch > 1 ? 'a smaller batch (--batch)' : null;
    throw new Error(`training cannot fit in the tfjs wasm backend's ${gib(TFJS_WASM_MAX_BYTES)} of memory: ${what}; use ${fixes}${smaller ? ` or ${smaller}` : ''}`);
  }
  if (need.largestTensorBytes > bufferConstants.MAX_LENGTH) {
    throw new Error(`training cannot fit in tfjs: one tensor of ${shape} would take ${gib(need.largestTensorBytes)}, more than the ${gib(bufferConstants.MAX_LENGTH)} an array can hold; use ${fixes} or a smaller batch (--batch)`);
  }
}

/**
 * The most views of one device an inference batch (eval, sweep, estimate) can hold in the tfjs wasm backend: a device
 * section runs one view of the batch at a time, holding its input (C values per pixel) and its first ConvP's output
 * (f). 0: not even one; Infinity on backends without that memory.
 */
export function inferenceBatchLimit(topology: Topology, input: { height: number; width: number; channels: number }, backend: BackendName): number {
  if (backend !== 'wasm') return Infinity;
  return Math.floor(TFJS_WASM_MAX_BYTES / (4 * input.height * input.width * (input.channels + topology.device.filters[0])));
}

/** Refuses an inference batch that cannot fit (inferenceBatchLimit); the message gives the largest batch that fits. */
export function checkInferenceMemory(topology: Topology, input: { height: number; width: number; channels: number; batchSize: number }, backend: BackendName): void {
  const fits = inferenceBatchLimit(topology, input, backend);
  if (input.batchSize <= fits) return;
  const need = 4 * input.height * input.width * (input.channels + topology.device.filters[0]) * input.batchSize;
  const shape = `${input.height}x${input.width}x${input.channels}`;
  throw new Error(
    `inference cannot fit in the tfjs wasm backend's ${gib(TFJS_WASM_MAX_BYTES)} of memory: a batch of ${input.batchSize} view${input.batchSize === 1 ? '' : 's'} of ${shape} needs at least ${gib(need)}; ` +
      (fits >= 1 ? `use --batch ${fits} or less` : 'use smaller images (ddnn dataset split-grid --size)'),
  );
}
