import type { DeviceRuntimeBindings } from './device-runtime';
import { loadViewSource } from './view-source';

/** Runtime bindings over checkpoint sections (bit-packed kernels) and dataset folders under dataRoot. */
export function checkpointRuntimeBindings(options: { dataRoot: string }): DeviceRuntimeBindings {
  return {
    loadDeviceSection() {
      throw new Error('TODO: checkpoint section reader');
    },
    loadView: (dataset, view) => loadViewSource(options.dataRoot, dataset, view),
  };
}
