import * as tf from '@tensorflow/tfjs';

/** Geometry of an NHWC 2-D convolution, as tfjs computes it for the forward op. */
export function convGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: tf.backend_util.Conv2DInfo['padInfo']['type'] | number | 'valid' | 'same' | tf.backend_util.ExplicitPadding,
  dataFormat: string | undefined,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): tf.backend_util.Conv2DInfo {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`dataFormat must be 'NHWC' for the wasm training kernels; got '${dataFormat}'`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape, filterShape, strides, 1, pad as 'same', dimRoundingMode, false, 'channelsLast');
}
