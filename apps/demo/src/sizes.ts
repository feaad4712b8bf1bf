import { availableParallelism, totalmem } from 'node:os';
import { checkModelFits, WASM_HEAP_LIMIT, type MemoryLimit, type SizeEstimate } from '@tfjs-diffusion/models';

/** Largest grid PNG (raw pixel bytes) and host pixel buffer a `sample`/`eval` call makes. */
export const MAX_HOST_BYTES = 2 ** 30;

const GB = (b: number) => `${(b / 1e9).toFixed(b < 1e8 ? 3 : 1)} GB`;

/** What one instance can hold: the wasm heap, or half the machine's memory when that is smaller. */
export function memoryLimit(): MemoryLimit {
  const half = totalmem() / 2;
  return half < WASM_HEAP_LIMIT.bytes ? { bytes: half, what: `half of this machine's ${GB(totalmem())} of memory` } : WASM_HEAP_LIMIT;
}

/** Refuses a model and batch that cannot fit on this machine, with the estimate (the models package's); `what` names the setting to change. */
export function checkFits(model: Parameters<typeof checkModelFits>[0], batch: number, training: boolean, what: string): SizeEstimate {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`${what}: the batch must hold at least 1 image; got ${batch}`);
  return checkModelFits(model, { batch, training, limit: memoryLimit(), what });
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
