/** BatchNorm epsilon used by every BatchNorm of the model (training, tfjs inference and the bit-packed kernels). */
export const BN_EPSILON = 1e-5;
