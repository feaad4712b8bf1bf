import type * as tf from '@tensorflow/tfjs';

/** What tfjs passes a kernel function: the parameter of `tf.KernelFunc`. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * A kernel's attributes under tfjs' interface for them (tf.Conv2DAttrs, ...).
 * tfjs types attributes as NamedAttrMap, and its attribute interfaces have no
 * index signature, so the two do not overlap: the cast lives only here.
 */
export function typedAttrs<T extends object>(attrs: tf.NamedAttrMap | undefined): T {
  return attrs as unknown as T;
}

/**
 * Calls a kernel with typed attributes, and with Concat's inputs as the array
 * the engine passes. tf.KernelFunc declares only NamedTensorInfoMap and
 * NamedAttrMap, which cover neither: the cast lives only here.
 */
export function callKernel(
  kernel: tf.KernelConfig, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: object, backend: object,
): tf.TensorInfo | tf.TensorInfo[] {
  return kernel.kernelFunc({ inputs, attrs, backend } as unknown as KernelArgs);
}
