// The page behind src/training.browser.test.ts: trains a small MLP denoiser
// with the package's main entry in the browser, saves its state as bytes and
// continues from them, exposed through `window.trainingTest`.
import * as tf from '@tensorflow/tfjs';
import { MLPDenoiser } from '@tfjs-diffusion/models';
import { createRng, makeSchedule, type RngState } from '@tfjs-diffusion/schedules';
import { createTrainer, decodeCheckpoint, encodeCheckpoint, inferenceWeights, type Batch } from '@tfjs-diffusion/training';

function mixture(seed: number, n: number): { next(): Batch; getState(): RngState; setState(s: RngState): void } {
  const rng = createRng(seed);
  return {
    next() {
      const xs = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const k = rng.nextInt(2) ? 1 : -1;
        xs[2 * i] = k + 0.1 * rng.normal();
        xs[2 * i + 1] = 0.5 * k + 0.1 * rng.normal();
      }
      return { images: tf.tensor4d(xs, [n, 1, 1, 2]) };
    },
    getState: () => rng.getState(),
    setState: (s) => rng.setState(s),
  };
}

async function run(backend: string, steps: number) {
  await tf.setBackend(backend);
  const schedule = makeSchedule({ numTrainTimesteps: 100 });
  const make = async (seed: number) => {
    const denoiser = new MLPDenoiser({ dim: 2, hidden: 32, layers: 1 }, { seed });
    const trainer = await createTrainer({
      denoiser, schedule, data: mixture(1, 32), learningRate: 1e-2, seed: 2,
      regularizers: { ema: { decay: 0.9 }, clipGradNorm: 1 }, validation: { images: mixture(9, 64).next().images, timesteps: 4 },
    });
    return { denoiser, trainer };
  };
  const a = await make(0);
  const before = (await a.trainer.evaluate()).loss;
  const fit = await a.trainer.fit({ steps, every: { validate: steps } });
  const files = encodeCheckpoint(a.trainer.checkpoint());
  const ck = decodeCheckpoint(files, 'page');
  const ema = inferenceWeights(ck);
  // A second trainer, other initial weights, continues from the bytes: its next step equals the first one's.
  const b = await make(5);
  const tensorsBefore = tf.memory().numTensors;
  await b.trainer.restore(ck);
  const restoreLeak = tf.memory().numTensors - tensorsBefore;
  const stepAfterRestore = b.trainer.step;
  const next = [await a.trainer.trainStep(), await b.trainer.trainStep()].map((r) => r.loss);
  const result = {
    backend: tf.getBackend(),
    before,
    after: fit.validation[0]!.loss,
    bytes: files.weights.byteLength,
    emaSource: ema.source,
    stepAfterRestore,
    next,
    restoreLeak,
  };
  for (const x of [a, b]) {
    await x.trainer.dispose();
    x.denoiser.dispose();
  }
  return result;
}

declare global {
  var trainingTest: { run: typeof run } | undefined;
}
globalThis.trainingTest = { run };
document.body.dataset.ready = 'true';
