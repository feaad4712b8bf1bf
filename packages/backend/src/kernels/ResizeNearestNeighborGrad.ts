import * as tf from '@tensorflow/tfjs';

/** What a JavaScript backend gives a kernel: its tensors' values and a way to make outputs. */
interface JsBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/** The row (or column) of the input that output index `o` copies in tfjs' forward ResizeNearestNeighbor. */
function sourceIndex(o: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const ratio = (alignCorners && outSize > 1 ? inSize - 1 : inSize) / (alignCorners && outSize > 1 ? outSize - 1 : outSize);
  const frac = halfPixelCenters ? (o + 0.5) * ratio : o * ratio;
  const i = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  return halfPixelCenters ? Math.max(0, i) : i;
}

/**
 * dx[b, y, x, c] = Σ dy[b, oy, ox, c] over the output pixels (oy, ox) that
 * copy input pixel (y, x): every dy value is added to the pixel the forward
 * pass read it from. tfjs 4.22's cpu kernel reads dy at the input's batch
 * offset, so for batch > 1 with upsampling it sums the wrong image's
 * gradients; this one scatters with dy's own strides (and honours
 * halfPixelCenters, which tfjs' kernel ignores).
 */
export function resizeNearestNeighborGrad(args: {
  inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown;
}): tf.TensorInfo {
  const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
  const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
  const backend = args.backend as JsBackendLike;
  const [batch, inH, inW, depth] = images.shape as [number, number, number, number];
  const [dyBatch, outH, outW, dyDepth] = dy.shape as [number, number, number, number];
  if (dyBatch !== batch || dyDepth !== depth) {
    throw new Error(`resizeNearestNeighborGrad: dy shape [${dy.shape}] does not match images [${images.shape}] in batch and channels`);
  }
  const dyValues = backend.readSync(dy.dataId) as Float32Array;
  const out = new Float32Array(batch * inH * inW * depth);
  const rows = Int32Array.from({ length: outH }, (_, o) => sourceIndex(o, inH, outH, alignCorners, halfPixelCenters));
  const cols = Int32Array.from({ length: outW }, (_, o) => sourceIndex(o, inW, outW, alignCorners, halfPixelCenters));
  let src = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const rowBase = (b * inH + rows[oy]!) * inW;
      for (let ox = 0; ox < outW; ox++) {
        const dst = (rowBase + cols[ox]!) * depth;
        for (let c = 0; c < depth; c++) out[dst + c]! += dyValues[src++]!;
      }
    }
  }
  return backend.makeTensorInfo(images.shape, 'float32', out);
}

/** The corrected kernel for tfjs' cpu backend (also the reference the other backends are tested against). */
export const resizeNearestNeighborGradCpuConfig: tf.KernelConfig = {
  kernelName: tf.ResizeNearestNeighborGrad,
  backendName: 'cpu',
  kernelFunc: resizeNearestNeighborGrad,
};
