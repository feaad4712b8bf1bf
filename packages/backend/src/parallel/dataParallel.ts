import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { clipScale } from '@tfjs-diffusion/regularizers';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { planThreads } from '../threadPlan.js';
import type { DataParallel, DataParallelOptions, FromWorker, Replica, ToWorker } from './types.js';

const fromSource = import.meta.url.endsWith('.ts');

// Workers of a TypeScript run (tests, tsx) load the worker and replica modules
// from source: register tsx and the workspace's `source` export condition first.
const BOOT = `
const { workerData } = require('node:worker_threads');
const { register } = require('node:module');
(async () => {
  (await import(workerData.__tsx)).register();
  register(workerData.__hooks);
  await import(workerData.__entry);
})().catch((e) => require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String((e && e.stack) || e) }));
`;
const SOURCE_HOOKS =
  'data:text/javascript,' +
  encodeURIComponent(
    `export async function resolve(s, c, next) { return next(s, { ...c, conditions: [...new Set(['source', ...c.conditions])] }); }`,
  );

function spawn(workerData: Record<string, unknown>): Worker {
  const entry = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData });
  return new Worker(BOOT, {
    eval: true,
    workerData: { ...workerData, __tsx: import.meta.resolve('tsx/esm/api'), __hooks: SOURCE_HOOKS, __entry: entry.href },
  });
}

interface Pending {
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
}

class WorkerHandle {
  readonly ready: Promise<{ name: string; shape: number[] }[]>;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;
  private seq = 0;

  constructor(readonly worker: Worker, readonly index: number) {
    let onReady!: (p: { name: string; shape: number[] }[]) => void;
    let onFail!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { onReady = res; onFail = rej; });
    this.ready.catch(() => {});
    const fail = (e: Error) => {
      this.failure ??= e;
      onFail(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') onReady(m.params);
      else if (m.type === 'error') {
        const e = new Error(`data-parallel worker ${index}: ${m.message}`);
        if (m.id !== undefined && this.pending.has(m.id)) {
          this.pending.get(m.id)!.reject(e);
          this.pending.delete(m.id);
        } else fail(e);
      } else {
        this.pending.get(m.id)?.resolve(m);
        this.pending.delete(m.id);
      }
    });
    worker.on('error', (e) => fail(new Error(`data-parallel worker ${index}: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`data-parallel worker ${index} exited (code ${code})`)));
  }

  request(m: ToWorker & { id: number }): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(m.id, { resolve, reject });
      this.worker.postMessage(m);
    });
  }

  nextId(): number {
    return ++this.seq;
  }
}

/**
 * Data parallelism over worker threads, each with its own backend (wasm runs
 * one thread per instance in Node). Gradients come back through shared
 * memory and are averaged here; the caller applies its optimizer update and
 * calls `syncWeights`, which copies the weights to every worker through
 * shared memory, so all replicas hold the same weights.
 */
/** Where a parameter sits in the shared weight and gradient buffers. */
interface LayoutEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

const DATA_PARALLEL_KEYS = optionKeys<DataParallelOptions<unknown>>()(['module', 'init', 'threads', 'backend']);

export async function createDataParallel<I, B>(opts: DataParallelOptions<I>): Promise<DataParallel<B>> {
  checkOptions('createDataParallel', opts, DATA_PARALLEL_KEYS);
  const requested = opts.threads ?? availableParallelism();
  if (!Number.isInteger(requested) || requested < 1) throw new RangeError(`createDataParallel: threads must be a positive integer; got ${requested}`);
  const backend = opts.backend ?? tf.getBackend();
  // Under tfjs-node (backend 'tensorflow') TensorFlow's pool uses the cores: no workers.
  const plan = planThreads(requested, backend === 'tfjs-node' || backend === 'tfjs-node-gpu' ? 'tensorflow' : backend);
  const threads = plan.replicas;
  const module = opts.module.startsWith('file:') ? opts.module : new URL(`file://${opts.module}`).href;
  const handles = Array.from({ length: threads - 1 }, (_, i) => new WorkerHandle(spawn({ module, init: opts.init, backend }), i + 1));
  const dispose = async () => {
    await Promise.all(handles.map((h) => h.worker.terminate()));
  };
  let layout: LayoutEntry[] = [];
  let weightsBuf: Float32Array<ArrayBufferLike> = new Float32Array(0);
  let gradBufs: Float32Array<ArrayBufferLike>[] = [];
  try {
    const lists = await Promise.all(handles.map((h) => h.ready));
    if (lists.length > 0) {
      let offset = 0;
      layout = lists[0]!.map((p) => {
        const size = p.shape.reduce((a, b) => a * b, 1);
        const e = { ...p, offset, size };
        offset += size;
        return e;
      });
      const weightsSab = new SharedArrayBuffer(offset * 4);
      weightsBuf = new Float32Array(weightsSab);
      gradBufs = handles.map((h) => {
        const sab = new SharedArrayBuffer(offset * 4);
        h.worker.postMessage({ type: 'buffers', grads: sab, weights: weightsSab } satisfies ToWorker);
        return new Float32Array(sab);
      });
    }
  } catch (e) {
    await dispose();
    throw e;
  }

  let pendingSync: Promise<unknown> = Promise.resolve();
  const checkLocal = (local: Pick<Replica<B>, 'parameters'>) => {
    const params = local.parameters();
    const same = params.length === layout.length && params.every((p, i) => p.name === layout[i]!.name && p.variable.size === layout[i]!.size);
    if (!same) {
      throw new Error(
        `createDataParallel: the local replica's parameters (${params.length}) differ from the workers' (${layout.length}) in name, order or size`,
      );
    }
    return params;
  };

  return {
    threads,
    plan: plan.message,
    async lossAndGrads(local, shards, weights, opts = {}) {
      if (shards.length !== threads || weights.length !== threads) {
        throw new RangeError(`lossAndGrads: needs one shard and one weight per replica (${threads}); got ${shards.length} shards, ${weights.length} weights`);
      }
      const total = weights.reduce((a, b) => a + b, 0);
      if (!(total > 0) || weights.some((w) => !(w >= 0))) throw new RangeError(`lossAndGrads: weights must be >= 0 with a positive sum; got [${weights}]`);
      const { clipNorm } = opts;
      if (clipNorm !== undefined && !(clipNorm > 0)) throw new RangeError(`lossAndGrads: clipNorm must be > 0; got ${clipNorm}`);
      if (handles.length > 0) checkLocal(local);
      const remote = handles.map((h, i) => h.request({ type: 'step', id: h.nextId(), batch: shards[i + 1] }));
      remote.forEach((p) => p.catch(() => {}));
      const mine = await local.lossAndGrads(shards[0]!);
      let done: FromWorker[];
      try {
        // The weights posted before this step reached the workers before it (messages keep their order).
        done = await Promise.all([...remote, pendingSync]).then((r) => r.slice(0, remote.length) as FromWorker[]);
      } catch (e) {
        tf.dispose(Object.values(mine.grads));
        throw e;
      }
      if (handles.length === 0) return mine;
      let loss = (weights[0]! / total) * mine.loss;
      done.forEach((m, i) => {
        loss += (weights[i + 1]! / total) * (m as { loss: number }).loss;
      });
      // Averaged on the host, with the squared norm on the way: the clip is a scale here, not a pass of kernels.
      const accs: [LayoutEntry, Float32Array][] = [];
      let sumSq = 0;
      for (const e of layout) {
        const g0 = mine.grads[e.name];
        // Frozen in every replica (the workers send zeros): nothing to average, no tensor to make.
        if (!g0) continue;
        const acc = new Float32Array(e.size);
        const d = g0.dataSync() as Float32Array;
        const w0 = weights[0]! / total;
        for (let k = 0; k < e.size; k++) acc[k] = w0 * d[k]!;
        gradBufs.forEach((buf, i) => {
          const w = weights[i + 1]! / total;
          if (w === 0) return;
          for (let k = 0; k < e.size; k++) acc[k]! += w * buf[e.offset + k]!;
        });
        for (let k = 0; k < e.size; k++) sumSq += acc[k]! * acc[k]!;
        accs.push([e, acc]);
      }
      tf.dispose(Object.values(mine.grads));
      const norm = Math.sqrt(sumSq);
      const coef = clipNorm === undefined ? 1 : clipScale(norm, clipNorm);
      const grads: Record<string, tf.Tensor> = {};
      for (const [e, acc] of accs) {
        if (coef !== 1) for (let k = 0; k < acc.length; k++) acc[k]! *= coef;
        grads[e.name] = tf.tensor(acc, e.shape, 'float32');
      }
      return { loss, grads, norm };
    },
    async syncWeights(local) {
      if (handles.length === 0) return;
      const params = checkLocal(local);
      // The workers may still be reading the last weights posted.
      await pendingSync;
      params.forEach((p, i) => weightsBuf.set(p.variable.dataSync() as Float32Array, layout[i]!.offset));
      // Not awaited: the next request to a worker comes after this in its queue; an error surfaces there.
      pendingSync = Promise.all(handles.map((h) => h.request({ type: 'sync', id: h.nextId() })));
      pendingSync.catch(() => {});
    },
    async callWorkers<R>(method: string, args: unknown[]): Promise<R[]> {
      if (args.length > handles.length) throw new RangeError(`callWorkers: at most one argument per worker (${handles.length}); got ${args.length}`);
      const calls = args.map((arg, i) => handles[i]!.request({ type: 'call', id: handles[i]!.nextId(), method, arg }));
      calls.forEach((c) => c.catch(() => {}));
      await pendingSync;
      const done = await Promise.all(calls);
      return done.map((m) => (m as { value: R }).value);
    },
    dispose,
  };
}
