import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** A float32 kernel written in JS: fills `out` (zeros, `outShape`) from its inputs' values and shapes. */
export interface JsKernel<A> {
  name: string;
  outShape: (shapes: number[][], attrs: A) => number[];
  compute: (out: Float32Array, inputs: Float32Array[], shapes: number[][], attrs: A) => void;
}

/**
 * Runs a JS kernel on tensors: on wasm as a registered kernel that reads its inputs and writes its output in the wasm
 * heap itself (no download of the inputs, no upload of the result: for the step's largest activations those copies
 * cost more than the loop); on other backends over dataSync'd copies.
 */
export function runJsKernel<A extends object>(kernel: JsKernel<A>, inputs: tf.Tensor[], attrs: A): tf.Tensor {
  if (inputs.some((t) => t.dtype !== 'float32')) throw new Error(`${kernel.name} takes float32 tensors only`);
  const shapes = inputs.map((t) => t.shape);
  if (tf.getBackend() !== 'wasm') {
    const out = new Float32Array(tf.util.sizeFromShape(kernel.outShape(shapes, attrs)));
    kernel.compute(out, inputs.map((t) => t.dataSync() as Float32Array), shapes, attrs);
    return tf.tensor(out, kernel.outShape(shapes, attrs), 'float32');
  }
  // Guarded: another copy of this library in the process shares tfjs' kernel registry.
  if (!tf.getKernel(kernel.name, 'wasm')) {
    tf.registerKernel({
      kernelName: kernel.name,
      backendName: 'wasm',
      kernelFunc: ({ inputs: named, backend, attrs: given }) => {
        const wasm = backend as BackendWasm;
        const infos = Object.keys(named)
          .sort((a, b) => Number(a) - Number(b))
          .map((k) => named[k] as tf.TensorInfo);
        const a = (given as unknown as { attrs: A }).attrs;
        const infoShapes = infos.map((t) => [...t.shape]);
        const result = wasm.makeOutput(kernel.outShape(infoShapes, a), 'float32');
        // Views after makeOutput: an allocation may grow (and so detach) the heap.
        const out = wasm.typedArrayFromHeap(result) as Float32Array;
        out.fill(0);
        kernel.compute(out, infos.map((t) => wasm.typedArrayFromHeap(t) as Float32Array), infoShapes, a);
        return result;
      },
    });
  }
  const named: tf.NamedTensorMap = {};
  inputs.forEach((t, i) => (named[String(i)] = t));
  return tf.engine().runKernel(kernel.name, named, { attrs } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
