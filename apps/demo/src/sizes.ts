import { availableParallelism, totalmem } from 'node:os';
import { sampleHW, unetParameterCount, type UNetConfig } from '@tfjs-diffusion/models';

/** The wasm backend's heap: 4 GiB per instance (main thread and each worker). */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** Largest grid PNG (raw pixel bytes) and host pixel buffer a `sample`/`eval` call makes. */
export const MAX_HOST_BYTES = 2 ** 30;

const GB = (b: number) => `${(b / 1e9).toFixed(b < 1e8 ? 3 : 1)} GB`;

/** What one instance can hold: the wasm heap, or half the machine's memory when that is smaller. */
export function memoryLimit(): { bytes: number; what: string } {
  const half = totalmem() / 2;
  return half < WASM_HEAP_BYTES ? { bytes: half, what: `half of this machine's ${GB(totalmem())} of memory` }
    : { bytes: WASM_HEAP_BYTES, what: 'the wasm backend\'s 4 GiB heap per instance' };
}

/**
 * Floats alive per image in one U-Net forward: about 12 tensors of each residual block's
 * activation size (norms, SiLU, convs, the skip) kept until the step's tidy ends, and each
 * attention's (hw)² scores per head. Calibrated on the reference U-Net, where 400 images
 * (200 guided) in one sampling call overflowed the 4 GiB wasm heap.
 */
export function activationFloatsPerImage(c: UNetConfig): number {
  const [h, w] = sampleHW(c.sampleSize);
  let n = 0;
  c.blockOutChannels.forEach((ch, l) => {
    const hw = (h / 2 ** l) * (w / 2 ** l);
    const blocks = 2 * c.layersPerBlock + 1 + (l === c.blockOutChannels.length - 1 ? 2 : 0);
    n += 12 * hw * ch * blocks;
    const attn = c.attentionResolutions.includes(h / 2 ** l) ? blocks : 0;
    n += attn * (3 * hw * ch + 2 * hw * hw * c.attentionHeads);
  });
  return n;
}

export interface SizeEstimate {
  parameters: number;
  bytes: number;
}

/**
 * Bytes one instance needs: weights (×5 when training: weights, gradients, two AdamW moments,
 * EMA) and activations of `batch` images (×2 when training: the backward pass keeps them and
 * makes as many gradients).
 */
export function estimateBytes(model: UNetConfig, batch: number, training: boolean): SizeEstimate {
  const parameters = unetParameterCount(model);
  const weights = parameters * 4 * (training ? 5 : 1);
  const acts = activationFloatsPerImage(model) * 4 * batch * (training ? 2 : 1);
  return { parameters, bytes: weights + acts };
}

/** Refuses a model and batch that cannot fit, with the estimate; `what` names the setting to change. */
export function checkFits(model: UNetConfig, batch: number, training: boolean, what: string): SizeEstimate {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`${what}: the batch must hold at least 1 image; got ${batch}`);
  const e = estimateBytes(model, batch, training);
  const limit = memoryLimit();
  if (e.bytes > limit.bytes) {
    throw new Error(
      `${what}: ${training ? 'training' : 'sampling'} this U-Net (${e.parameters.toLocaleString('en')} parameters, ` +
        `blockOutChannels [${model.blockOutChannels}], ${JSON.stringify(model.sampleSize)} px) on ${batch} image${batch === 1 ? '' : 's'} at once ` +
        `needs about ${GB(e.bytes)}, more than ${limit.what} (${GB(limit.bytes)}); use a smaller model or batch`,
    );
  }
  return e;
}

/** Worker threads: at least 1, at most the cores there are (a thread per core is all data parallelism can use). */
export function checkThreads(threads: number, where: string): number {
  const cores = availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`${where}threads must be an integer >= 1; got ${threads}`);
  if (threads > cores) {
    throw new Error(`${where}threads ${threads} is more than the ${cores} core${cores === 1 ? '' : 's'} of this machine; use at most ${cores}`);
  }
  return threads;
}

/** Refuses a sample/eval request whose pixels or grid PNG would not fit, with the sizes. */
export function checkImageCount(n: number, rows: number, cols: number, img: { height: number; width: number; channels: number }, flag: string): void {
  const pixelBytes = n * img.height * img.width * img.channels * 4;
  const pad = 2;
  const gridBytes = (rows * (img.height + pad) + pad) * ((cols * (img.width + pad) + pad) * img.channels + 1);
  if (pixelBytes > MAX_HOST_BYTES || gridBytes > MAX_HOST_BYTES) {
    throw new Error(
      `${flag} asks for ${n.toLocaleString('en')} images (${rows} row${rows === 1 ? '' : 's'} of ${cols.toLocaleString('en')}): ${GB(pixelBytes)} of pixels and a ` +
        `${GB(gridBytes)} grid PNG (uncompressed), more than the ${GB(MAX_HOST_BYTES)} a sampling call allows; ask for fewer images`,
    );
  }
}
