import { Rng } from '@ddnn/datasets';
import { BN_EPSILON, initialValues, parseTopology, saveCheckpoint, sectionSpecs, topologyShapes } from '@ddnn/ddnn';

/**
 * A real (untrained, seeded) checkpoint of the paper's six-device topology for 32x32x3 views, written by
 * the model library's own saveCheckpoint: enough to exercise deploy and inference end to end.
 */
export async function writeUntrainedCheckpoint(dir: string, seed = 7): Promise<void> {
  const topology = parseTopology({});
  const classes = ['car', 'bus', 'person'];
  const rng = new Rng(seed);
  const sections = new Map(sectionSpecs(topology, topologyShapes(topology, [32, 32, 3], classes.length)).map((s) => [s.name, initialValues(s, rng)] as const));
  await saveCheckpoint(dir, {
    architecture: { input: [32, 32, 3], binarization: 'sign', convp: 'conv3x3-bn-sign-maxpool', batchNormEpsilon: BN_EPSILON },
    topology,
    classes,
    training: { epochs: 0, batchSize: 0, seed, learningRate: 0, deviceDropout: 0, trainSamples: 0, secondsTotal: 0, secondsPerEpoch: 0, cpuSecondsPerEpoch: 0, backend: 'none', finishedAt: new Date(0).toISOString(), finalExits: [] },
    metrics: {},
    sections,
  });
}
