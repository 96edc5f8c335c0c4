import { createBinaryDeviceSection, type SectionWeights } from '../binary';
import { decodeSection, parseCheckpointManifest } from '../checkpoint/checkpoint';
import { openEdgeSection } from '../inference/sections';
import { parseTopology } from '../model/topology';
import type { DeviceRuntimeBindings, DeviceSectionRunner, EdgeSectionRunner } from './device-runtime';
import { loadViewSource } from './view-source';

/**
 * An end-device section on the bit-packed kernels (what a constrained device runs), built from the
 * checkpoint manifest and the section's weight file exactly as the server sends them.
 */
export function binaryDeviceSectionRunner(rawManifest: unknown, section: string, weights: Uint8Array): DeviceSectionRunner {
  const manifest = parseCheckpointManifest(rawManifest);
  const values = decodeSection(manifest, section, weights);
  const topology = parseTopology(manifest.topology);
  const [height, width, channels] = manifest.architecture.input;
  const sw: SectionWeights = {};
  for (const [name, v] of values) sw[name] = { shape: v.shape, values: v.data };
  const stack = createBinaryDeviceSection(sw, { height, width, channels, blocks: topology.device.filters.length, classes: manifest.classes.length });
  return { infer: (pixels) => stack.infer(pixels), input: { height, width, channels } };
}

/** An edge section (tfjs; edge nodes are not the constrained tier), from the manifest and its weight file. */
export async function edgeSectionRunner(rawManifest: unknown, section: string, weights: Uint8Array): Promise<EdgeSectionRunner> {
  const manifest = parseCheckpointManifest(rawManifest);
  const values = decodeSection(manifest, section, weights);
  const edge = await openEdgeSection(manifest, section.slice('edge-'.length), values);
  return { fuse: (features) => edge.infer(features), dispose: () => edge.dispose() };
}

/** Runtime bindings over checkpoint sections and dataset folders under dataRoot (`<root>/<dataset>` or root itself). */
export function checkpointRuntimeBindings(options: { dataRoot: string }): DeviceRuntimeBindings {
  return {
    loadDeviceSection: binaryDeviceSectionRunner,
    loadEdgeSection: edgeSectionRunner,
    loadView: (dataset, view) => loadViewSource(options.dataRoot, dataset, view),
  };
}
