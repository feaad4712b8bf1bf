// Entry of a data-parallel worker thread: builds the backend and the replica, then answers steps.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendPreference } from '../backendTypes.js';
import { initBackend } from '../initBackend.js';
import type { FromWorker, Replica, ToWorker } from './types.js';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const { module, init, backend } = workerData as { module: string; init: unknown; backend: BackendPreference };

let replica: Replica<unknown>;
let grads: Float32Array | undefined;
let weights: Float32Array | undefined;
let layout: { name: string; offset: number; size: number; shape: number[] }[] = [];

async function start(): Promise<void> {
  await initBackend({ prefer: backend, quiet: true });
  const mod = (await import(module)) as { createReplica?: (init: unknown) => Replica<unknown> | Promise<Replica<unknown>> };
  if (typeof mod.createReplica !== 'function') throw new Error(`${module} does not export createReplica(init)`);
  replica = await mod.createReplica(init);
  let offset = 0;
  layout = replica.parameters().map((p) => {
    const e = { name: p.name, offset, size: p.variable.size, shape: p.variable.shape.slice() };
    offset += e.size;
    return e;
  });
  post({ type: 'ready', params: layout.map(({ name, shape }) => ({ name, shape })) });
}

async function step(id: number, batch: unknown): Promise<void> {
  const r = await replica.lossAndGrads(batch);
  try {
    for (const e of layout) {
      const g = r.grads[e.name];
      const dst = grads!.subarray(e.offset, e.offset + e.size);
      if (g) dst.set(g.dataSync() as Float32Array);
      else dst.fill(0);
    }
  } finally {
    tf.dispose(Object.values(r.grads));
  }
  post({ type: 'done', id, loss: r.loss });
}

function sync(id: number): void {
  const params = replica.parameters();
  layout.forEach((e, i) => {
    tf.tidy(() => params[i]!.variable.assign(tf.tensor(weights!.slice(e.offset, e.offset + e.size), e.shape, 'float32')));
  });
  post({ type: 'synced', id });
}

async function call(id: number, method: string, arg: unknown): Promise<void> {
  const fn: unknown = Reflect.get(replica, method);
  if (typeof fn !== 'function') throw new Error(`the replica of ${module} has no method ${method}`);
  post({ type: 'result', id, value: await (fn as (a: unknown) => unknown).call(replica, arg) });
}

port.on('message', (m: ToWorker) => {
  const id = 'id' in m ? m.id : undefined;
  const run = async () => {
    if (m.type === 'buffers') {
      grads = new Float32Array(m.grads);
      weights = new Float32Array(m.weights);
    } else if (m.type === 'step') await step(m.id, m.batch);
    else if (m.type === 'sync') sync(m.id);
    else if (m.type === 'call') await call(m.id, m.method, m.arg);
  };
  run().catch((e: Error) => post({ type: 'error', id, message: e?.stack ?? String(e) }));
});

start().catch((e: Error) => post({ type: 'error', message: e?.stack ?? String(e) }));
