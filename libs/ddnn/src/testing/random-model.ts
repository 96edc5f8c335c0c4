import { Rng } from '@ddnn/datasets';
import { BN_EPSILON } from '../layers/constants';
import type { DdnnModel } from '../model/model';
import { initialValues, sectionSpecs, type SectionValues } from '../model/params';
import { topologyShapes, type MapShape, type Topology } from '../model/topology';

/** An untrained model with random weights and random (plausible) BatchNorm parameters and statistics, for tests. */
export function randomModel(topology: Topology, input: MapShape, classes: number, seed = 1): DdnnModel {
  const rng = new Rng(seed, 0x7e57);
  const shapes = topologyShapes(topology, input, classes);
  const sections = new Map<string, SectionValues>();
  for (const spec of sectionSpecs(topology, shapes)) {
    const values = initialValues(spec, rng);
    for (const p of spec.params) {
      const d = values.get(p.name)!.data;
      for (let i = 0; i < d.length; i++) {
        if (p.kind === 'gamma') d[i] = rng.uniform(0.5, 1.5) * (rng.chance(0.2) ? -1 : 1);
        else if (p.kind === 'beta') d[i] = rng.normal() * 0.3;
        else if (p.kind === 'mean') d[i] = rng.normal() * 2;
        else if (p.kind === 'variance') d[i] = rng.uniform(0.5, 20);
      }
    }
    sections.set(spec.name, values);
  }
  return {
    architecture: { input, binarization: 'sign(x>=0 -> +1), hard-tanh STE', convp: 'test', batchNormEpsilon: BN_EPSILON },
    topology,
    classes: Array.from({ length: classes }, (_, k) => `c${k}`),
    training: { epochs: 0, batchSize: 0, seed, learningRate: 0, deviceDropout: 0, trainSamples: 0, secondsTotal: 0, secondsPerEpoch: 0, cpuSecondsPerEpoch: 0, backend: 'none', finishedAt: new Date(0).toISOString(), finalExits: [] },
    metrics: {},
    sections,
  };
}
