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
import { modelTensors, type ModelConfig } from '@tfjs-diffusion/models';
import type { LoadedModel } from './modelFolder.js';

/** What a worker samples: one `sample()` call as data, `rows` of the whole batch `shape` (as the trainer's sampling threads get it). */
export type { RowsRequest };

export type ToWorker =
  | { type: 'init'; id: number; wasmPaths: string }
  | { type: 'model'; id: number; modelId: number; config: ModelConfig; weights: Record<string, { shape: number[]; data: Float32Array }> }
  | { type: 'sample'; id: number; modelId: number; request: RowsRequest };

export type FromWorker =
  | { type: 'ok'; id: number }
  | { type: 'rows'; id: number; pixels: Float32Array }
  | { type: 'error'; id: number; message: string }
  /** Sent before every model evaluation of a 'sample' request: the worker is alive and working on it. */
  | { type: 'alive'; id: number }
  /** A message from the page could not be deserialized in the worker (its `messageerror`). */
  | { type: 'unreadable' };

/**
 * A worker that can no longer be relied on: it went silent past its bound,
 * a message to or from it could not be read, or it raised an error event.
 * The worker is terminated; its rows can be sampled on the page instead.
 * (A worker that answers with an error is not lost: the error is the result.)
 */
export class WorkerLost extends Error {
  override name = 'WorkerLost';
}

/**
 * Silence allowed while a worker sets up ('init': loading tfjs and its wasm
 * binary in a fresh thread; 'model': rebuilding the model and copying in its
 * weights). Seconds even on a slow machine: this bound only catches a
 * worker that is gone.
 */
export const SETUP_SILENCE_MS = 120_000;

/** Threads to sample on (the page included): every core when the page can run workers on wasm, else 1. */
export function samplingThreads(backend: string, requested?: number): number {
  const cores = navigator.hardwareConcurrency || 1;
  if (backend !== 'wasm' || !globalThis.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(requested ?? cores, 16));
}

interface Pending {
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
  /** When the worker last sent anything about this request. */
  last: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

type Request = ToWorker extends infer T ? (T extends ToWorker ? Omit<T, 'id'> : never) : never;

class SampleWorker {
  private worker: Worker;
  private next = 0;
  private pending = new Map<number, Pending>();
  modelId = -1;
  /** Why this worker was given up, once it was. */
  lost: WorkerLost | undefined;

  constructor(readonly name: string) {
    this.worker = new Worker(new URL('./sampleWorker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'unreadable') return this.lose(`${this.name} could not read a message from the page (messageerror)`);
      const p = this.pending.get(m.id);
      if (!p) return;
      p.last = performance.now();
      if (m.type === 'alive') return;
      this.settle(m.id);
      if (m.type === 'error') p.reject(new Error(`sampling worker: ${m.message}`));
      else p.resolve(m);
    };
    // A worker that fails to load or throws outside a request cannot be trusted with its requests.
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.lose(`${this.name} failed: ${e.message || 'the worker script failed to load'}`);
    };
    // A listener: Chromium's Worker has no `onmessageerror` attribute.
    this.worker.addEventListener('messageerror', () => this.lose(`${this.name} sent a message the page could not read (messageerror)`));
  }

  private settle(id: number): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
  }

  /** Gives the worker up: terminates it and rejects every waiting call with `message`. */
  lose(message: string): void {
    if (this.lost) return;
    this.lost = new WorkerLost(message);
    this.worker.terminate();
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(this.lost);
    }
  }

  /**
   * Sends `m` and waits for its reply. The call is lost (the worker
   * terminated) when the worker sends nothing about it for `silenceMs()`
   * milliseconds, a bound read again at every check so it can follow the
   * work; `what` names the request in that message.
   */
  call(m: Request, what: string, silenceMs: () => number, transfer: Transferable[] = []): Promise<FromWorker> {
    if (this.lost) return Promise.reject(this.lost);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, last: performance.now(), timer: undefined };
      const check = () => {
        const quiet = performance.now() - p.last;
        const bound = silenceMs();
        if (quiet >= bound) this.lose(`${this.name} did not answer ${what} for ${(quiet / 1000).toFixed(0)} s`);
        else p.timer = setTimeout(check, bound - quiet);
      };
      this.pending.set(id, p);
      try {
        this.worker.postMessage({ ...m, id }, transfer);
      } catch (e) {
        this.settle(id);
        reject(e);
        return;
      }
      p.timer = setTimeout(check, silenceMs());
    });
  }

  terminate(): void {
    this.lose(`${this.name} was terminated`);
  }
}

export type { SampleWorker };

const modelIds = new WeakMap<object, number>();
let nextModelId = 0;

/** The page's sampling workers; started on first use, kept for later runs, all stopped once one is lost. */
export class WorkerPool {
  private workers: SampleWorker[] = [];
  /** The first lost worker's reason; the pool is disposed then and takes no more work. */
  lost: WorkerLost | undefined;
  constructor(private wasmPaths: string) {}

  /**
   * `count` workers with `m`'s current weights (sent once per loaded model).
   * Rejects with a `WorkerLost` (the pool disposed) when a worker is lost
   * setting up, with a plain error when a worker answers with one.
   */
  async prepare(m: LoadedModel, count: number): Promise<SampleWorker[]> {
    if (this.lost) throw this.lost;
    const config = m.model.config;
    if (!config || typeof config.kind !== 'string') throw new Error("this model has no config with 'kind', so workers cannot rebuild it");
    const setup = () => SETUP_SILENCE_MS;
    try {
      while (this.workers.length < count) {
        const w = new SampleWorker(`sampling worker ${this.workers.length + 1}`);
        this.workers.push(w);
        try {
          await w.call({ type: 'init', wasmPaths: this.wasmPaths }, "'init' (loading tfjs and its wasm binary)", setup);
        } catch (e) {
          this.workers.pop()?.terminate();
          throw e;
        }
      }
      let id = modelIds.get(m);
      if (id === undefined) modelIds.set(m, (id = nextModelId++));
      const use = this.workers.slice(0, count);
      const behind = use.filter((w) => w.modelId !== id);
      const host = behind.length ? modelTensors(m.model) : {};
      await Promise.all(behind.map(async (w) => {
        // A copy per worker, transferred (the page keeps its own weights).
        const weights = Object.fromEntries(Object.entries(host).map(([name, t]) => [name, { shape: t.shape, data: Float32Array.from(t.data as Float32Array) }]));
        await w.call({ type: 'model', modelId: id, config, weights }, "'model' (building the model from its weights)", setup, Object.values(weights).map((t) => t.data.buffer));
        w.modelId = id;
      }));
      return use;
    } catch (e) {
      if (e instanceof WorkerLost) this.fail(e);
      throw e;
    }
  }

  /**
   * Samples `request.rows` on worker `w`; the rows' pixels. The worker
   * reports before every model evaluation, so `silenceMs` bounds the time of
   * one evaluation of its rows.
   */
  static async rows(w: SampleWorker, request: RowsRequest, silenceMs: () => number): Promise<Float32Array> {
    const [a, b] = request.rows;
    const of = request.shape?.[0];
    const what = `'sample' (image${b - a > 1 ? `s ${a + 1}–${b}` : ` ${b}`}${of ? ` of ${of}` : ''})`;
    const reply = await w.call({ type: 'sample', modelId: w.modelId, request }, what, silenceMs);
    if (reply.type !== 'rows') throw new Error(`sampling worker: expected rows, got ${reply.type}`);
    return reply.pixels;
  }

  /** Records the first lost worker and stops every worker: the page samples alone from then on. */
  fail(lost: WorkerLost): void {
    this.lost ??= lost;
    this.dispose();
  }

  dispose(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }
}
