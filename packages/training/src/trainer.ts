import * as tf from '@tensorflow/tfjs';
import {
  clipByGlobalNorm,
  createAdamW,
  createEma,
  createNonFiniteGuard,
  dropLabels,
  dropoutSchedule,
  globalNorm,
  matchesAny,
  minSnrWeights,
  offsetNoise,
  perturbNoise,
  timestepSampler,
  type AdamW,
  type AdamWOptions,
  type DropoutScheduleConfig,
  type Ema,
  type EmaOptions,
  type NamedParameter,
  type NamePattern,
  type NonFiniteGuard,
  type TimestepSampler,
  type TimestepSamplerConfig,
} from '@tfjs-diffusion/regularizers';
import { checkPrediction, createRng, type NoiseSchedule, type Prediction, type Rng, type RngState } from '@tfjs-diffusion/schedules';
import { CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint, type CheckpointTensor } from './checkpoint.js';
import { disposePrepared, lossAndGrads, plainToPrepared, slicePlain, type PlainBatch, type PreparedBatch } from './loss.js';
import { learningRateAt, type LearningRateConfig } from './lrSchedule.js';
import { predictionTarget, addNoise } from './targets.js';
import type { Batch, BatchSource, TrainableDenoiser, ValidationSet } from './types.js';
import type { ParallelOptions, ParallelRunner } from './parallel.js';

export interface RegularizerOptions {
  /** EMA of the weights; `true` for diffusers' defaults. */
  ema?: EmaOptions | boolean;
  /** Clip gradients to this global L2 norm. */
  clipGradNorm?: number;
  /** Min-SNR-γ loss weighting (γ = 5 in the paper). */
  minSnrGamma?: number;
  /** Offset-noise strength. */
  offsetNoise?: number;
  /** Input-perturbation γ (0.1 in the paper). */
  inputPerturbation?: number;
  /** Classifier-free guidance: probability of replacing a label by the null class. */
  pUncond?: number;
  /** The null class index; defaults to the model's `config.numClasses`. */
  nullClass?: number;
  /** Weight decay λ (AdamW: decoupled; see `decayMode`). Default 0.01. */
  weightDecay?: number;
  decayMode?: 'decoupled' | 'l2';
  /** Names that get no weight decay. Default ['*.bias', '*norm*', '*embed*', '*Embed*']. */
  noDecay?: NamePattern[];
  /** Dropout rate for the model's predict (`dropoutRate`), constant or following a schedule over steps. */
  dropout?: DropoutScheduleConfig | number;
  /** How training timesteps are drawn. Default uniform over [0, numTrainTimesteps). */
  timestepSampler?: TimestepSamplerConfig | TimestepSampler;
  /** Stop after this many non-finite steps in a row. Default 5. */
  maxConsecutiveNonFinite?: number;
}

export interface ValidationOptions extends ValidationSet {
  /** Timesteps of the validation grid, or how many evenly spaced ones. Default 10. */
  timesteps?: number[] | number;
  /** Seed of the validation noise (drawn once). Default 1234. */
  seed?: number;
  batchSize?: number;
}

export interface FineTuneOptions {
  /** Checkpoint directory (as written by saveCheckpoint) whose model weights are loaded. */
  checkpoint: string;
  /** Load only the parameters whose name matches (default all). */
  include?: NamePattern[];
  /** Parameters kept fixed (added to the trainer's `freeze`). */
  freeze?: NamePattern[];
}

export interface TrainerOptions {
  denoiser: TrainableDenoiser;
  schedule: NoiseSchedule;
  /** Must equal the denoiser's; defaults to it. */
  prediction?: Prediction;
  data: BatchSource;
  validation?: ValidationOptions;
  /** AdamW settings other than the learning rate and decay (those come from `learningRate` and `regularizers`). */
  optimizer?: Omit<AdamWOptions, 'learningRate' | 'weightDecay' | 'decayMode' | 'noDecay'>;
  regularizers?: RegularizerOptions;
  /** A number for a constant rate. Default 1e-3. */
  learningRate?: LearningRateConfig | number;
  /** Parameters kept fixed (name patterns); parameters whose variable is not trainable are fixed too. */
  freeze?: NamePattern[];
  fineTune?: FineTuneOptions;
  seed?: number;
  /** Data parallelism over worker threads. */
  parallel?: ParallelOptions;
  /**
   * Compute a step in slices of at most this many examples and average them
   * (same result, less memory). Default 32: one wasm instance cannot hold the
   * reference U-Net's training step at batch 64.
   */
  microBatch?: number;
}

export interface StepResult {
  step: number;
  loss: number;
  gradNorm: number;
  learningRate: number;
  skipped: boolean;
}

export interface EvaluateResult {
  loss: number;
  perTimestep: { t: number; loss: number }[];
}

export interface Metrics {
  step: number;
  loss?: number;
  gradNorm?: number;
  learningRate?: number;
  skippedTotal?: number;
  valLoss?: number;
  valLossEma?: number;
  stepsPerSecond?: number;
}

export interface FitOptions {
  steps: number;
  onProgress?: (p: { step: number; done: number; total: number; loss: number }) => void;
  onMetrics?: (m: Metrics) => void;
  every?: { log?: number; validate?: number; checkpoint?: number };
  checkpointDir?: string;
}

export interface Trainer {
  readonly step: number;
  readonly denoiser: TrainableDenoiser;
  readonly optimizer: AdamW;
  readonly ema: Ema | undefined;
  readonly guard: NonFiniteGuard;
  readonly prediction: Prediction;
  trainable(): NamedParameter[];
  frozen(): NamedParameter[];
  learningRate(step?: number): number;
  trainStep(): Promise<StepResult>;
  evaluate(opts?: { useEma?: boolean }): EvaluateResult;
  fit(opts: FitOptions): Promise<{ losses: number[]; validation: { step: number; loss: number }[] }>;
  saveCheckpoint(dir: string, opts?: { keep?: number }): Promise<string>;
  loadCheckpoint(dir: string): Promise<void>;
  dispose(): Promise<void>;
}

const DEFAULT_NO_DECAY: NamePattern[] = ['*.bias', '*norm*', '*Norm*', '*embed*', '*Embed*'];

function gridTimesteps(T: number, spec: number[] | number | undefined): number[] {
  if (Array.isArray(spec)) {
    for (const t of spec) {
      if (!Number.isInteger(t) || t < 0 || t >= T) throw new RangeError(`validation.timesteps must be integers in [0, ${T - 1}], got ${t}`);
    }
    return spec.slice();
  }
  const n = spec ?? 10;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`validation.timesteps must be a positive integer or a list, got ${n}`);
  return Array.from({ length: n }, (_, i) => Math.min(T - 1, Math.floor(((i + 0.5) * T) / n)));
}

function labelsArray(labels: Batch['labels']): Int32Array | undefined {
  if (labels === undefined) return undefined;
  if (labels instanceof tf.Tensor) return Int32Array.from(labels.dataSync());
  return Int32Array.from(labels);
}

/** Builds a trainer. Async because fine-tuning reads a checkpoint and parallel training starts workers. */
export async function createTrainer(options: TrainerOptions): Promise<Trainer> {
  const { denoiser, schedule, data } = options;
  const prediction = checkPrediction(options.prediction ?? denoiser.prediction);
  if (prediction !== denoiser.prediction) {
    throw new Error(`createTrainer: prediction '${prediction}' differs from the denoiser's '${denoiser.prediction}'`);
  }
  const T = schedule.numTrainTimesteps;
  const reg = options.regularizers ?? {};
  const lrConfig: LearningRateConfig =
    typeof options.learningRate === 'number' ? { peak: options.learningRate } : options.learningRate ?? { peak: 1e-3 };
  learningRateAt(0, lrConfig); // validates
  const seed = options.seed ?? 0;
  const rng: Rng = createRng(seed);

  const all = denoiser.parameters();
  const freeze = [...(options.freeze ?? []), ...(options.fineTune?.freeze ?? [])];
  const isFrozen = (p: NamedParameter) => !p.variable.trainable || matchesAny(p.name, freeze);
  const trainable = all.filter((p) => !isFrozen(p));
  const frozen = all.filter(isFrozen);
  if (trainable.length === 0) throw new Error('createTrainer: every parameter is frozen; check freeze patterns');

  if (options.fineTune) await loadModelWeights(all, options.fineTune.checkpoint, options.fineTune.include);

  const optimizer = createAdamW(trainable, {
    ...options.optimizer,
    learningRate: lrConfig.peak,
    weightDecay: reg.weightDecay ?? 0.01,
    decayMode: reg.decayMode ?? 'decoupled',
    noDecay: reg.noDecay ?? DEFAULT_NO_DECAY,
  });
  const ema = reg.ema ? createEma(trainable, reg.ema === true ? {} : reg.ema) : undefined;
  const guard = createNonFiniteGuard({ maxConsecutiveNonFinite: reg.maxConsecutiveNonFinite ?? 5 });
  const sampleT: TimestepSampler =
    typeof reg.timestepSampler === 'function'
      ? reg.timestepSampler
      : timestepSampler(reg.timestepSampler ?? { kind: 'uniform', numTrainTimesteps: T });
  const dropoutRateAt = reg.dropout !== undefined ? dropoutSchedule(reg.dropout) : undefined;
  const nullClass = reg.nullClass ?? denoiser.config?.numClasses ?? undefined;
  if (reg.pUncond !== undefined && reg.pUncond > 0 && nullClass === undefined) {
    throw new Error('createTrainer: regularizers.pUncond needs regularizers.nullClass or a model config with numClasses');
  }
  for (const [k, v] of [['clipGradNorm', reg.clipGradNorm], ['minSnrGamma', reg.minSnrGamma]] as const) {
    if (v !== undefined && !(v > 0)) throw new RangeError(`regularizers.${k} must be > 0, got ${v}`);
  }
  const alphasCumprod = Float32Array.from(schedule.alphasCumprod);

  // Fixed validation noise: drawn once, so successive evaluations are comparable.
  let val: { images: tf.Tensor4D; labels?: tf.Tensor1D; grid: number[]; noise: tf.Tensor4D[]; batchSize: number } | undefined;
  if (options.validation) {
    const v = options.validation;
    const grid = gridTimesteps(T, v.timesteps);
    const vr = createRng(v.seed ?? 1234);
    const labels = labelsArray(v.labels);
    val = {
      images: tf.keep(tf.clone(v.images)),
      labels: labels ? tf.keep(tf.tensor1d(labels, 'int32')) : undefined,
      grid,
      noise: grid.map(() => tf.keep(tf.randomNormal(v.images.shape, 0, 1, 'float32', vr.nextSeed()))),
      batchSize: v.batchSize ?? 64,
    };
  }

  let parallel: ParallelRunner | undefined;
  if (options.parallel && options.parallel.threads > 1) {
    const { startParallel } = await import('./parallel.js');
    parallel = await startParallel(options.parallel, denoiser, prediction, freeze);
  }

  const microBatch = options.microBatch ?? 32;
  if (!Number.isInteger(microBatch) || microBatch < 1) throw new RangeError(`createTrainer: microBatch must be a positive integer; got ${options.microBatch}`);
  let step = 0;

  // Draws everything random for one step from the trainer's Rng, in a fixed order.
  const prepare = (batch: Batch): PreparedBatch => {
    const x0 = batch.images;
    const n = x0.shape[0];
    const ts = sampleT(step, n, rng);
    const noiseSeed = rng.nextSeed();
    const offsetSeed = reg.offsetNoise ? rng.nextSeed() : 0;
    const perturbSeed = reg.inputPerturbation ? rng.nextSeed() : 0;
    let labels = labelsArray(batch.labels);
    if (labels && reg.pUncond) labels = dropLabels(labels, { pUncond: reg.pUncond, nullClass: nullClass!, rng });
    const dropoutSeed = rng.nextSeed();
    const weights = reg.minSnrGamma
      ? minSnrWeights(schedule, ts, { gamma: reg.minSnrGamma, prediction })
      : new Float32Array(n).fill(1);
    return tf.tidy(() => {
      let noise = tf.randomNormal(x0.shape, 0, 1, 'float32', noiseSeed) as tf.Tensor4D;
      if (reg.offsetNoise) noise = offsetNoise(noise, reg.offsetNoise, offsetSeed);
      const inputNoise = reg.inputPerturbation ? perturbNoise(noise, reg.inputPerturbation, perturbSeed) : noise;
      return {
        x0: tf.clone(x0),
        noise,
        inputNoise,
        t: tf.tensor1d(Float32Array.from(ts), 'float32'),
        alphaCumprod: tf.tensor1d(Float32Array.from(ts, (t) => alphasCumprod[t]), 'float32'),
        weights: tf.tensor1d(weights, 'float32'),
        labels: labels ? tf.tensor1d(labels, 'int32') : undefined,
        dropoutSeed,
        dropoutRate: dropoutRateAt?.(step),
      };
    });
  };

  const toPlain = (b: PreparedBatch): PlainBatch => ({
    shape: b.x0.shape,
    images: b.x0.dataSync() as Float32Array,
    noise: b.noise.dataSync() as Float32Array,
    inputNoise: b.inputNoise !== b.noise ? (b.inputNoise.dataSync() as Float32Array) : undefined,
    t: Int32Array.from(b.t.dataSync()),
    alphaCumprod: b.alphaCumprod.dataSync() as Float32Array,
    weights: b.weights.dataSync() as Float32Array,
    labels: b.labels ? Int32Array.from(b.labels.dataSync()) : undefined,
    dropoutSeed: b.dropoutSeed,
    dropoutRate: b.dropoutRate,
  });

  // A large batch in slices of at most `microBatch` (a wasm instance has a 4 GiB heap):
  // the slice-size-weighted mean of slice losses and gradients is the whole batch's.
  const accumulate = (prepared: PreparedBatch): { loss: number; grads: Record<string, tf.Tensor> } => {
    const plain = toPlain(prepared);
    const n = plain.shape[0];
    let loss = 0;
    let grads: Record<string, tf.Tensor> | undefined;
    for (let start = 0, i = 0; start < n; start += microBatch!, i++) {
      const end = Math.min(n, start + microBatch!);
      const part = plainToPrepared({ ...slicePlain(plain, start, end), dropoutSeed: (plain.dropoutSeed + i) | 0 });
      try {
        const r = lossAndGrads(denoiser, prediction, trainable, part);
        const w = (end - start) / n;
        loss += w * r.loss.dataSync()[0]!;
        r.loss.dispose();
        const prev = grads;
        grads = tf.tidy(() => Object.fromEntries(Object.entries(r.grads).map(([k, g]) => [k, prev ? tf.add(prev[k]!, tf.mul(g, w)) : tf.mul(g, w)])));
        tf.dispose([...Object.values(r.grads), ...(prev ? Object.values(prev) : [])]);
      } finally {
        disposePrepared(part);
      }
    }
    return { loss, grads: grads! };
  };

  const trainer: Trainer = {
    get step() {
      return step;
    },
    denoiser,
    optimizer,
    ema,
    guard,
    prediction,
    trainable: () => trainable.slice(),
    frozen: () => frozen.slice(),
    learningRate: (s = step) => learningRateAt(s, lrConfig),

    async trainStep(): Promise<StepResult> {
      const lr = learningRateAt(step, lrConfig);
      const batch = await data.next();
      let prepared: PreparedBatch | undefined;
      let loss: number;
      let grads: Record<string, tf.Tensor>;
      try {
        prepared = prepare(batch);
        if (parallel) {
          const plain = toPlain(prepared);
          const r = await parallel.lossAndGrads(plain, ([a, b]) => slicePlain(plain, a, b));
          loss = r.loss;
          grads = r.grads;
        } else if (microBatch !== undefined && prepared.x0.shape[0] > microBatch) {
          ({ loss, grads } = accumulate(prepared));
        } else {
          const r = lossAndGrads(denoiser, prediction, trainable, prepared);
          loss = r.loss.dataSync()[0];
          r.loss.dispose();
          grads = r.grads;
        }
      } finally {
        if (prepared) disposePrepared(prepared);
        tf.dispose([batch.images, ...(batch.labels instanceof tf.Tensor ? [batch.labels] : [])]);
      }
      let gradNorm: number;
      let toApply = grads;
      if (reg.clipGradNorm) {
        const c = clipByGlobalNorm(grads, reg.clipGradNorm);
        gradNorm = c.norm;
        toApply = c.grads;
        tf.dispose(grads);
      } else {
        gradNorm = Number.isFinite(loss) ? globalNorm(grads) : NaN;
      }
      step += 1;
      let ok: boolean;
      try {
        ok = guard.check({ loss, gradNorm }, step);
      } catch (e) {
        tf.dispose(toApply);
        throw e;
      }
      if (ok) {
        optimizer.apply(toApply, lr);
        ema?.update(optimizer.step);
        if (parallel) await parallel.syncWeights();
      }
      tf.dispose(toApply);
      return { step, loss, gradNorm, learningRate: lr, skipped: !ok };
    },

    evaluate({ useEma = false } = {}): EvaluateResult {
      if (!val) throw new Error('evaluate: no validation set was given to createTrainer (options.validation)');
      if (useEma && !ema) throw new Error('evaluate: useEma needs regularizers.ema');
      const run = (): EvaluateResult => {
        const v = val!;
        const n = v.images.shape[0];
        const perTimestep = v.grid.map((t, gi) => {
          let sum = 0;
          for (let s = 0; s < n; s += v.batchSize) {
            const e = Math.min(n, s + v.batchSize);
            sum += tf.tidy(() => {
              const x0 = tf.slice(v.images, [s, 0, 0, 0], [e - s, -1, -1, -1]);
              const noise = tf.slice(v.noise[gi], [s, 0, 0, 0], [e - s, -1, -1, -1]);
              const a = tf.fill([e - s], alphasCumprod[t]) as tf.Tensor1D;
              const xt = addNoise(x0, noise, a);
              const target = predictionTarget(prediction, x0, noise, a);
              const cond = v.labels ? { classLabels: tf.slice(v.labels, [s], [e - s]) } : undefined;
              const out = denoiser.predict(xt, tf.fill([e - s], t) as tf.Tensor1D, cond);
              return tf.sum(tf.mean(tf.square(tf.sub(out, target)), [1, 2, 3])).dataSync()[0];
            });
          }
          return { t, loss: sum / n };
        });
        return { loss: perTimestep.reduce((s, p) => s + p.loss, 0) / perTimestep.length, perTimestep };
      };
      return useEma ? ema!.withAveraged(run) : run();
    },

    async fit(fitOpts: FitOptions) {
      const { steps, onProgress, onMetrics, every = {}, checkpointDir } = fitOpts;
      if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`fit: steps must be a non-negative integer, got ${steps}`);
      if (every.checkpoint && !checkpointDir) throw new Error('fit: every.checkpoint needs checkpointDir');
      const logEvery = every.log ?? 1;
      const losses: number[] = [];
      const validation: { step: number; loss: number }[] = [];
      let window: number[] = [];
      let windowNorm: number[] = [];
      let t0 = performance.now();
      for (let i = 0; i < steps; i++) {
        const r = await trainer.trainStep();
        losses.push(r.loss);
        if (!r.skipped) {
          window.push(r.loss);
          windowNorm.push(r.gradNorm);
        }
        onProgress?.({ step: r.step, done: i + 1, total: steps, loss: r.loss });
        const m: Metrics = { step: r.step };
        let emit = false;
        if (r.step % logEvery === 0 && window.length > 0) {
          const secs = (performance.now() - t0) / 1000;
          Object.assign(m, {
            loss: window.reduce((a, b) => a + b, 0) / window.length,
            gradNorm: windowNorm.reduce((a, b) => a + b, 0) / windowNorm.length,
            learningRate: r.learningRate,
            skippedTotal: guard.skipped,
            stepsPerSecond: window.length / secs,
          });
          window = [];
          windowNorm = [];
          t0 = performance.now();
          emit = true;
        }
        if (val && every.validate && r.step % every.validate === 0) {
          m.valLoss = trainer.evaluate().loss;
          if (ema) m.valLossEma = trainer.evaluate({ useEma: true }).loss;
          validation.push({ step: r.step, loss: m.valLoss });
          emit = true;
        }
        if (emit) onMetrics?.(m);
        if (every.checkpoint && r.step % every.checkpoint === 0) await trainer.saveCheckpoint(checkpointDir!);
      }
      return { losses, validation };
    },

    async saveCheckpoint(dir: string, { keep = 2 } = {}): Promise<string> {
      const tensors: Record<string, CheckpointTensor> = {};
      for (const p of all) tensors[`model.${p.name}`] = { shape: p.variable.shape.slice(), data: p.variable.dataSync() as Float32Array };
      const opt = optimizer.state();
      for (const [name, t] of Object.entries(opt.m)) tensors[`adam.m.${name}`] = t;
      for (const [name, t] of Object.entries(opt.v)) tensors[`adam.v.${name}`] = t;
      const emaState = ema?.state();
      if (emaState) for (const [name, t] of Object.entries(emaState.shadow)) tensors[`ema.${name}`] = t;
      const state = {
        version: CHECKPOINT_VERSION,
        step,
        optimizerStep: opt.step,
        rng: rng.getState(),
        data: data.getState ? data.getState() : null,
        guard: guard.state(),
        ema: emaState ? { step: emaState.step, decay: emaState.decay } : null,
        config: {
          prediction,
          numTrainTimesteps: T,
          seed,
          learningRate: lrConfig,
          trainable: trainable.map((p) => p.name),
          model: denoiser.config ?? null,
        },
      };
      return writeCheckpoint(dir, step, { tensors, state }, keep);
    },

    async loadCheckpoint(dir: string): Promise<void> {
      const ck = await readCheckpoint(dir);
      const st = ck.state as any;
      const where = ck.path;
      if (st.config?.prediction !== prediction) {
        throw new Error(`checkpoint ${where}: prediction is '${st.config?.prediction}', this trainer's is '${prediction}'`);
      }
      if (st.config?.numTrainTimesteps !== T) {
        throw new Error(`checkpoint ${where}: numTrainTimesteps is ${st.config?.numTrainTimesteps}, this schedule has ${T}`);
      }
      checkTensors(where, ck.tensors, 'model.', all);
      if (ema && !st.ema) throw new Error(`checkpoint ${where}: has no EMA weights, but this trainer uses an EMA`);
      const m: Record<string, CheckpointTensor> = {};
      const v: Record<string, CheckpointTensor> = {};
      for (const p of trainable) {
        const km = ck.tensors[`adam.m.${p.name}`];
        const kv = ck.tensors[`adam.v.${p.name}`];
        if (!km || !kv) throw new Error(`checkpoint ${where}: no optimizer moments for '${p.name}' (was it frozen when saved?)`);
        m[p.name] = km;
        v[p.name] = kv;
      }
      const shadow: Record<string, CheckpointTensor> = {};
      if (ema) {
        for (const p of trainable) {
          const s = ck.tensors[`ema.${p.name}`];
          if (!s) throw new Error(`checkpoint ${where}: no EMA weights for '${p.name}'`);
          shadow[p.name] = s;
        }
      }
      if (st.data !== null && st.data !== undefined && !data.setState) {
        throw new Error(`checkpoint ${where}: holds a data-iterator position, but options.data has no setState`);
      }
      // validated: now load
      assignWeights(all, ck.tensors, 'model.');
      optimizer.loadState({ step: st.optimizerStep, m, v });
      if (ema) ema.loadState({ step: st.ema.step, decay: st.ema.decay, shadow });
      rng.setState(st.rng as RngState);
      guard.loadState(st.guard);
      if (st.data !== null && st.data !== undefined) data.setState!(st.data);
      step = st.step;
      if (parallel) await parallel.syncWeights();
    },

    async dispose() {
      optimizer.dispose();
      ema?.dispose();
      if (val) tf.dispose([val.images, ...(val.labels ? [val.labels] : []), ...val.noise]);
      if (parallel) await parallel.dispose();
    },
  };
  return trainer;
}

function checkTensors(where: string, tensors: Record<string, CheckpointTensor>, prefix: string, params: readonly NamedParameter[]): void {
  const names = new Set(params.map((p) => p.name));
  for (const p of params) {
    const t = tensors[prefix + p.name];
    if (!t) throw new Error(`checkpoint ${where}: parameter '${p.name}' is missing`);
    const shape = p.variable.shape;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`checkpoint ${where}: parameter '${p.name}' has shape [${t.shape}] in the checkpoint, [${shape}] in the model`);
    }
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`checkpoint ${where}: parameter '${p.name}' has ${t.data.length} values for shape [${shape}] (corrupt file?)`);
    }
  }
  for (const key of Object.keys(tensors)) {
    if (key.startsWith(prefix) && !names.has(key.slice(prefix.length))) {
      throw new Error(`checkpoint ${where}: has parameter '${key.slice(prefix.length)}', which the model does not have`);
    }
  }
}

function assignWeights(params: readonly NamedParameter[], tensors: Record<string, CheckpointTensor>, prefix: string): void {
  for (const p of params) {
    const t = tensors[prefix + p.name];
    if (t) tf.tidy(() => p.variable.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
}

/** Loads model weights (those matching `include`, default all) from a checkpoint into `params`. */
export async function loadModelWeights(params: readonly NamedParameter[], dir: string, include?: NamePattern[]): Promise<string[]> {
  const ck = await readCheckpoint(dir);
  const chosen = include ? params.filter((p) => matchesAny(p.name, include)) : params;
  if (include && chosen.length === 0) throw new Error(`fineTune: include patterns ${JSON.stringify(include.map(String))} match no parameter`);
  for (const p of chosen) {
    const t = ck.tensors[`model.${p.name}`];
    if (!t) throw new Error(`checkpoint ${ck.path}: parameter '${p.name}' is missing`);
    const shape = p.variable.shape;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`checkpoint ${ck.path}: parameter '${p.name}' has shape [${t.shape}] in the checkpoint, [${shape}] in the model`);
    }
  }
  assignWeights(chosen, ck.tensors, 'model.');
  return chosen.map((p) => p.name);
}

/** Builds a trainer with `options` and continues from the checkpoint in `dir` (weights, EMA, moments, step, Rng, data position). */
export async function resumeTrainer(dir: string, options: TrainerOptions): Promise<Trainer> {
  const trainer = await createTrainer(options);
  try {
    await trainer.loadCheckpoint(dir);
  } catch (e) {
    await trainer.dispose();
    throw e;
  }
  return trainer;
}
