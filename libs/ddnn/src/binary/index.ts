// Bit-packed binary inference: what a constrained end device runs (see README "Binary kernels").
export { BATCH_NORM_FORMULAS, batchNormChannel, signThreshold, type BatchNormFormula, type BatchNormParams, type SignThreshold } from './batch-norm';
export { bytesToWords, popcount32, wordsToBytes } from './bits';
export type { BinaryInference, BinaryStackOptions } from './binary-stack';
export { createBinaryDeviceSection, type BinaryDeviceSection } from './device-section';
export { poolAxis, type PoolPadding } from './pool-geometry';
export type { SectionWeights } from './section-weights';
export { createBinaryUpperSection, type BinaryAggregator, type BinaryUpperOptions, type BinaryUpperSection } from './cloud-section';
export { toSectionWeights } from './section-weights';
