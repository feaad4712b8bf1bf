/**
 * A sampling worker of the page (module worker, see ./workers.ts): the wasm
 * backend set up as the page sets it up (one thread: the workers are the
 * parallelism), the model rebuilt from its config with the page's weights, and
 * `sample()` run for the rows of the batch the page gives it. While sampling it
 * tells the page it is alive before every model evaluation, so the page can
 * tell a slow worker from a lost one.
 */
import { initBackend } from '@tfjs-diffusion/backend';
import { createModel, loadWeights, type Model } from '@tfjs-diffusion/models';
import type { Denoiser } from '@tfjs-diffusion/samplers';
import { sampleRequest } from '@tfjs-diffusion/training';
import type { ToWorker, FromWorker } from './workers.js';

let model: Model | undefined;
let modelId = -1;
let ready: Promise<unknown> | undefined;

// The page's typings are DOM's, whose `self` is a Window; in this worker it is a Worker scope.
const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

async function handle(m: ToWorker): Promise<FromWorker> {
  if (m.type === 'init') {
    ready ??= initBackend({ prefer: 'wasm', wasmPaths: m.wasmPaths, threads: 1, quiet: true }).then((i) => {
      if (i.name !== 'wasm') throw new Error(`the worker's backend is ${i.name}, not wasm`);
    });
    await ready;
    return { type: 'ok', id: m.id };
  }
  if (m.type === 'model') {
    await ready;
    const next = createModel(m.config);
    try {
      loadWeights(next, m.weights, { source: "the page's weights" });
    } catch (e) {
      next.dispose();
      throw e;
    }
    model?.dispose();
    model = next;
    modelId = m.modelId;
    return { type: 'ok', id: m.id };
  }
  if (!model || modelId !== m.modelId) throw new Error('the worker has not been given this model');
  const m0 = model;
  // The page's liveness signal: one message per model evaluation.
  const reporting: Denoiser = {
    prediction: m0.prediction,
    numClasses: m0.numClasses,
    predict: (x, t, cond) => {
      post({ type: 'alive', id: m.id });
      return m0.predict(x, t, cond);
    },
  };
  const out = await sampleRequest(reporting, m.request);
  return { type: 'rows', id: m.id, pixels: out.data as Float32Array };
}

// Without the message there is no request id to answer: the page gives this worker up.
self.addEventListener('messageerror', () => post({ type: 'unreadable' }));

self.onmessage = (e: MessageEvent<ToWorker>) => {
  handle(e.data).then(
    (reply) => post(reply, reply.type === 'rows' ? [reply.pixels.buffer] : []),
    (err: unknown) => post({ type: 'error', id: e.data.id, message: err instanceof Error ? err.message : String(err) }),
  );
};
