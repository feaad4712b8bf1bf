import * as tf from '@tensorflow/tfjs';
import { callKernel } from './kernelArgs.js';

/** The parts of the wasm backend the training kernels use. */
export interface WasmBackendLike {
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  incRef(dataId: tf.DataId): void;
  /** A view (no copy) of a tensor's buffer on the wasm heap; invalid once the heap grows. */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Calls the wasm backend's own kernels directly (no engine, no tape) and
 * frees every intermediate it made when `dispose` is called. Composite
 * kernels run at the speed of XNNPACK's forward convolution this way, with
 * far less JavaScript per call than going through `tf.*` ops.
 */
export class WasmOps {
  private readonly made: tf.TensorInfo[] = [];

  constructor(readonly backend: WasmBackendLike) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: object = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (kernel === undefined) throw new Error(`the wasm backend has no '${kernelName}' kernel`);
    const out = callKernel(kernel, inputs, attrs, this.backend);
    if (Array.isArray(out)) throw new Error(`'${kernelName}' returned several outputs`);
    this.made.push(out);
    return out;
  }

  /** Forward NHWC convolution with explicit padding; negative padding crops the input first. */
  conv2d(x: tf.TensorInfo, filter: tf.TensorInfo, stride: [number, number], dilation: [number, number], pad: [number, number, number, number]): tf.TensorInfo {
    const [top, bottom, left, right] = pad;
    let input = x;
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      const [b, h, w, c] = x.shape;
      const t0 = Math.max(0, -top);
      const l0 = Math.max(0, -left);
      const hh = h - t0 - Math.max(0, -bottom);
      const ww = w - l0 - Math.max(0, -right);
      input = this.slice(x, [0, t0, l0, 0], [b, hh, ww, c]);
    }
    const explicit: Pad4 = [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]];
    return this.run('Conv2D', { x: input, filter }, {
      strides: stride, dilations: dilation, pad: explicit,
      dataFormat: 'NHWC', dimRoundingMode: undefined,
    } satisfies tf.Conv2DAttrs);
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  slice(x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  reverse(x: tf.TensorInfo, dims: number[]): tf.TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  pad(x: tf.TensorInfo, paddings: [number, number][]): tf.TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  concat(xs: tf.TensorInfo[], axis: number): tf.TensorInfo {
    // Concat takes its inputs as an array, as the engine passes them.
    return this.run('Concat', xs, { axis });
  }

  stridedSlice(x: tf.TensorInfo, begin: number[], end: number[], strides: number[]): tf.TensorInfo {
    return this.run('StridedSlice', { x }, {
      begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
    });
  }

  zeros(shape: number[]): tf.TensorInfo {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /** Keeps `out` and frees every other tensor made through this object. */
  finish(out: tf.TensorInfo): tf.TensorInfo {
    for (const t of this.made) if (t !== out) this.backend.disposeData(t.dataId);
    this.made.length = 0;
    return out;
  }
}
