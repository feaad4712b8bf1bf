/**
 * Sampling on every core: when the page is cross-origin isolated and on wasm,
 * `navigator.hardwareConcurrency − 1` module workers (./sampleWorker.ts) sample
 * rows of the batch while the page samples the first rows itself. Every random
 * draw is the whole batch's (`sample()`'s `rows`), so the images equal one
 * thread's for the same seed. The page and the workers run the same wasm
 * kernels; each worker builds the model from its config and gets the weights
 * once per loaded model.
 */
import type { RowsRequest } from '@tfjs-diffusion/training';
import type { LoadedModel } from './modelFolder.js';

/** What a worker samples: one `sample()` call as data, `rows` of the whole batch `shape` (as the trainer's sampling threads get it). */
export type { RowsRequest };

export type ToWorker =
  | { type: 'init'; id: number; wasmPaths: string }
  | { type: 'model'; id: number; modelId: number; config: Record<string, unknown>; weights: Float32Array[] }
  | { type: 'sample'; id: number; modelId: number; request: RowsRequest };

export type FromWorker =
  | { type: 'ok'; id: number }
  | { type: 'rows'; id: number; pixels: Float32Array }
  | { type: 'error'; id: number; message: string };

/** Threads to sample on (the page included): every core when the page can run workers on wasm, else 1. */
export function samplingThreads(backend: string, requested?: number): number {
  const cores = navigator.hardwareConcurrency || 1;
  if (backend !== 'wasm' || !globalThis.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(requested ?? cores, 16));
}

/** Rows [start, end) of each of `parts` threads, the first ones one row longer: as the trainer shards a batch. */
export function splitRows(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < Math.min(parts, n); i++) {
    const size = Math.floor(n / Math.min(parts, n)) + (i < n % Math.min(parts, n) ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

class SampleWorker {
  private worker: Worker;
  private next = 0;
  private pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  modelId = -1;

  constructor() {
    this.worker = new Worker(new URL('./sampleWorker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      if (e.data.type === 'error') p.reject(new Error(`sampling worker: ${e.data.message}`));
      else p.resolve(e.data);
    };
    // A worker that fails to load or throws outside a request fails every waiting call.
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.failAll(new Error(`sampling worker: ${e.message || 'the worker script failed to load'}`));
    };
    this.worker.onmessageerror = () => this.failAll(new Error('sampling worker: a message could not be read'));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  call(m: ToWorker extends infer T ? (T extends ToWorker ? Omit<T, 'id'> : never) : never, transfer: Transferable[] = []): Promise<FromWorker> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id }, transfer);
    });
  }

  terminate(): void {
    this.failAll(new Error('sampling worker: terminated'));
    this.worker.terminate();
  }
}

const modelIds = new WeakMap<object, number>();
let nextModelId = 0;

/** The page's sampling workers; started on first use, kept for later runs. */
export class WorkerPool {
  private workers: SampleWorker[] = [];
  constructor(private wasmPaths: string) {}

  /** `count` workers with `m`'s current weights (sent once per loaded model). */
  async prepare(m: LoadedModel, count: number): Promise<SampleWorker[]> {
    const config = (m.model as unknown as { config?: Record<string, unknown> }).config;
    if (!config || typeof config.kind !== 'string') throw new Error("this model has no config with 'kind', so workers cannot rebuild it");
    while (this.workers.length < count) {
      const w = new SampleWorker();
      this.workers.push(w);
      try {
        await w.call({ type: 'init', wasmPaths: this.wasmPaths });
      } catch (e) {
        this.workers.pop()?.terminate();
        throw e;
      }
    }
    let id = modelIds.get(m);
    if (id === undefined) modelIds.set(m, (id = nextModelId++));
    const use = this.workers.slice(0, count);
    await Promise.all(use.filter((w) => w.modelId !== id).map(async (w) => {
      // A copy per worker, transferred (the page keeps its own weights).
      const weights = m.model.parameters().map((p) => Float32Array.from(p.variable.dataSync() as Float32Array));
      await w.call({ type: 'model', modelId: id, config, weights }, weights.map((a) => a.buffer));
      w.modelId = id;
    }));
    return use;
  }

  /** Samples `request.rows` on worker `w`; the rows' pixels. */
  static async rows(w: SampleWorker, request: RowsRequest): Promise<Float32Array> {
    const reply = await w.call({ type: 'sample', modelId: w.modelId, request });
    if (reply.type !== 'rows') throw new Error(`sampling worker: expected rows, got ${reply.type}`);
    return reply.pixels;
  }

  dispose(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}
