// Progressive distillation (Salimans & Ho 2022, Algorithm 2): a student
// learns to take in one DDIM step what its teacher takes in two.
//
// The distillation target is written as an ordinary prepared batch: with
// x0 := x̃ and ε := ε̃ = (z_t − α_t x̃)/σ_t, addNoise(x̃, ε̃) is z_t again and
// predictionTarget gives x̃ in the student's prediction space. So the trainer's
// step (micro-batches, worker threads, clipping, the NaN guard, AdamW, EMA),
// `fit`, checkpoints and resume are the trainer's own; only the batch
// preparation differs.
import * as tf from '@tensorflow/tfjs';
import { dropoutSchedule } from '@tfjs-diffusion/regularizers';
import { checkPrediction, optionKeys, timesteps, type NoiseSchedule, type Prediction, type Rng } from '@tfjs-diffusion/schedules';
import type { PrepareBatch } from './batch.js';
import { labelsArray } from './labels.js';
import type { PreparedBatch } from './loss.js';
import { checkTrainerOptions, TRAINER_OPTION_KEYS, type ResolvedOptions, type TrainerOptions } from './options.js';
import type { Trainer } from './fitTypes.js';
import { createTrainer } from './trainer.js';
import type { TrainableDenoiser } from './types.js';

export const DISTILL_WEIGHTINGS = ['truncated-snr', 'snr+1'] as const;
/**
 * The loss weight w(λ_t) on ‖x̃ − x̂‖² (Salimans & Ho 2022, §4):
 * 'truncated-snr' max(SNR, 1), 'snr+1' 1 + SNR (the v-loss ‖ṽ − v̂‖²).
 */
export type DistillWeighting = (typeof DISTILL_WEIGHTINGS)[number];

/** What distillation needs of a teacher: a prediction type and a forward pass. */
export type DistillTeacher = Pick<TrainableDenoiser, 'prediction' | 'predict' | 'config'>;

export interface DistillerOptions extends Omit<TrainerOptions, 'denoiser' | 'prediction' | 'flow' | 'fineTune' | 'validation'> {
  /** The model whose two DDIM steps are the target; it is only run forward. */
  teacher: DistillTeacher;
  /** The model trained; it should start from the teacher's weights (Algorithm 2: η ← θ). It must predict 'v' or 'sample'. */
  student: TrainableDenoiser;
  /** N, the student's DDIM steps; the teacher takes 2N on the same 'trailing' grid. */
  studentSteps: number;
  /** Classifier-free guidance w on the teacher's output (1 = none). The student is conditioned on the class only. */
  guidanceScale?: number;
  /** The teacher's null class; defaults to its `config.numClasses`. */
  nullClass?: number;
  /** Default 'truncated-snr'. */
  weighting?: DistillWeighting;
}

/** One student step on the 'trailing' grid: from t to tPrev (−1 = the end, ᾱ = 1), the teacher through tMid. */
export interface DistillStep {
  t: number;
  tMid: number;
  tPrev: number;
}

/**
 * The student's N steps and the teacher's midpoints: the 'trailing' grid of
 * 2N steps holds the N-step grid at its even positions (diffusers' DDIM with
 * `timestep_spacing: 'trailing'`, `set_alpha_to_one`; as the demo samples).
 */
export function distillSteps(schedule: NoiseSchedule, studentSteps: number): DistillStep[] {
  const T = schedule.numTrainTimesteps;
  if (!Number.isInteger(studentSteps) || studentSteps < 1 || 2 * studentSteps > T) {
    throw new RangeError(`distill: studentSteps must be an integer in [1, ${Math.floor(T / 2)}] (the teacher takes twice as many of the ${T} timesteps); got ${studentSteps}`);
  }
  const student = timesteps(schedule, studentSteps, { timestepSpacing: 'trailing' });
  const teacher = timesteps(schedule, 2 * studentSteps, { timestepSpacing: 'trailing' });
  return student.map((t, j) => {
    if (teacher[2 * j] !== t) {
      throw new Error(`distill: the ${2 * studentSteps}-step grid does not contain the ${studentSteps}-step grid (timestep ${t}); choose another studentSteps`);
    }
    return { t, tMid: teacher[2 * j + 1]!, tPrev: j + 1 < studentSteps ? student[j + 1]! : -1 };
  });
}

const col = (a: Float32Array) => tf.reshape(tf.tensor1d(a, 'float32'), [-1, 1, 1, 1]) as tf.Tensor4D;

/** x̂ implied by a model output, with ᾱ per sample ([n,1,1,1] square roots α, σ). */
function x0From(prediction: Prediction, z: tf.Tensor4D, out: tf.Tensor4D, a: tf.Tensor4D, s: tf.Tensor4D): tf.Tensor4D {
  if (prediction === 'epsilon') return tf.div(tf.sub(z, tf.mul(s, out)), a);
  if (prediction === 'v') return tf.sub(tf.mul(a, z), tf.mul(s, out));
  return out;
}

/** The deterministic DDIM step (η = 0) from (α, σ) to (α', σ'): z' = α' x̂ + (σ'/σ)(z − α x̂). */
function ddimTo(z: tf.Tensor4D, x0: tf.Tensor4D, a: tf.Tensor4D, s: tf.Tensor4D, a2: tf.Tensor4D, s2: tf.Tensor4D): tf.Tensor4D {
  return tf.add(tf.mul(a2, x0), tf.mul(tf.div(s2, s), tf.sub(z, tf.mul(a, x0))));
}

export interface DistillTarget {
  /** x̃ = (z_{t''} − (σ_{t''}/σ_t) z_t) / (α_{t''} − (σ_{t''}/σ_t) α_t), Algorithm 2. */
  xTilde: tf.Tensor4D;
  /** The teacher's two-step result z_{t''}. */
  z2: tf.Tensor4D;
}

/**
 * The distillation target for noisy inputs `z` at the student's steps `steps`
 * (one per row): two guided DDIM steps of the teacher, then x̃. The caller
 * disposes the result.
 */
export function distillTarget(
  teacher: DistillTeacher,
  schedule: NoiseSchedule,
  z: tf.Tensor4D,
  steps: readonly DistillStep[],
  opts: { labels?: Int32Array; guidanceScale?: number; nullClass?: number } = {},
): DistillTarget {
  const n = z.shape[0];
  if (steps.length !== n) throw new Error(`distillTarget: ${steps.length} steps for ${n} inputs`);
  const ac = schedule.alphasCumprod;
  const at = (t: number) => (t < 0 ? 1 : ac[t]!);
  const sq = (f: (s: DistillStep) => number, c: boolean) => col(Float32Array.from(steps, (s) => Math.sqrt(c ? 1 - at(f(s)) : at(f(s)))));
  const w = opts.guidanceScale ?? 1;
  const { labels } = opts;
  const guided = w !== 1;
  return tf.tidy(() => {
    const [a, s] = [sq((x) => x.t, false), sq((x) => x.t, true)];
    const [a1, s1] = [sq((x) => x.tMid, false), sq((x) => x.tMid, true)];
    const [a2, s2] = [sq((x) => x.tPrev, false), sq((x) => x.tPrev, true)];
    const lab = labels ? tf.tensor1d(labels, 'int32') : undefined;
    const predict = (x: tf.Tensor4D, t: (s: DistillStep) => number): tf.Tensor4D => {
      const tt = tf.tensor1d(Float32Array.from(steps, t), 'float32');
      if (!guided) return teacher.predict(x, tt, lab ? { classLabels: lab } : undefined, { training: false });
      // Ho & Salimans 2022 on the raw output, as the samplers' classifierFreeGuidance.
      const out = teacher.predict(tf.concat([x, x]), tf.concat([tt, tt]), {
        classLabels: tf.concat([lab!, tf.fill([n], opts.nullClass!, 'int32')]) as tf.Tensor1D,
      }, { training: false });
      const [c, u] = tf.split(out, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
      return tf.add(u, tf.mul(tf.sub(c, u), w));
    };
    const x1 = x0From(teacher.prediction, z, predict(z, (x) => x.t), a, s);
    const z1 = ddimTo(z, x1, a, s, a1, s1);
    const x2 = x0From(teacher.prediction, z1, predict(z1, (x) => x.tMid), a1, s1);
    const z2 = ddimTo(z1, x2, a1, s1, a2, s2);
    const r = tf.div(s2, s);
    const xTilde = tf.div(tf.sub(z2, tf.mul(r, z)), tf.sub(a2, tf.mul(r, a))) as tf.Tensor4D;
    return { xTilde, z2 };
  });
}

/**
 * Per-sample weights on the student's squared error in its own prediction
 * space that make the loss w(λ)‖x̃ − x̂‖²: that error is (1 + SNR)‖x̃ − x̂‖² for
 * 'v' and ‖x̃ − x̂‖² for 'sample'.
 */
export function distillWeights(prediction: Prediction, weighting: DistillWeighting, alphaCumprod: ArrayLike<number>): Float32Array {
  return Float32Array.from(alphaCumprod, (ab) => {
    const snr = ab / (1 - ab);
    const w = weighting === 'truncated-snr' ? Math.max(snr, 1) : 1 + snr;
    return prediction === 'v' ? w / (1 + snr) : w;
  });
}

function checkDistillerOptions(options: DistillerOptions): { weighting: DistillWeighting; guidanceScale: number; nullClass: number | undefined; steps: DistillStep[] } {
  const { teacher, student, schedule } = options;
  if (!teacher || typeof teacher.predict !== 'function') throw new TypeError('distill: teacher must be a model with predict(x, t, cond)');
  if (!student || typeof student.parameters !== 'function') throw new TypeError('distill: student must be a trainable model (predict and parameters())');
  for (const [who, p] of [['teacher', teacher.prediction], ['student', student.prediction]] as const) {
    if (checkPrediction(p, `${who}.prediction`) === 'flow') throw new Error(`distill: ${who}.prediction 'flow' is not supported (progressive distillation steps DDIM on the beta schedule)`);
  }
  if (checkPrediction(student.prediction, 'student.prediction') === 'epsilon') {
    throw new Error("distill: student.prediction must be 'v' or 'sample'; got 'epsilon' (ε-prediction cannot express x̂ at SNR → 0, where the student's first step starts: Salimans & Ho 2022, §4)");
  }
  const weighting = options.weighting ?? 'truncated-snr';
  if (!DISTILL_WEIGHTINGS.includes(weighting)) throw new RangeError(`distill: weighting must be one of ${DISTILL_WEIGHTINGS.map((x) => `'${x}'`).join(', ')}; got '${String(weighting)}'`);
  const guidanceScale = options.guidanceScale ?? 1;
  if (!Number.isFinite(guidanceScale)) throw new RangeError(`distill: guidanceScale must be a finite number; got ${guidanceScale}`);
  const nullClass = options.nullClass ?? teacher.config?.numClasses ?? undefined;
  if (guidanceScale !== 1 && !(Number.isInteger(nullClass) && nullClass! >= 0)) {
    throw new Error('distill: guidanceScale needs a class-conditional teacher (config.numClasses) or options.nullClass');
  }
  const reg = options.regularizers ?? {};
  for (const k of ['pUncond', 'minSnrGamma', 'offsetNoise', 'inputPerturbation', 'timestepSampler'] as const) {
    if (reg[k] !== undefined) throw new Error(`distill: regularizers.${k} is not used by distillation (the teacher's two steps are the target; timesteps are the student's grid); remove it`);
  }
  return { weighting, guidanceScale, nullClass, steps: distillSteps(schedule, options.studentSteps) };
}

function distillPreparer(options: DistillerOptions, checked: ReturnType<typeof checkDistillerOptions>): (schedule: NoiseSchedule, o: ResolvedOptions, rng: Rng) => PrepareBatch {
  const { teacher } = options;
  const { weighting, guidanceScale, nullClass, steps } = checked;
  return (schedule, o, rng) => {
    const dropoutRateAt = o.reg.dropout !== undefined ? dropoutSchedule(o.reg.dropout) : undefined;
    const ac = schedule.alphasCumprod;
    return (batch, step): PreparedBatch => {
      const x0 = batch.images;
      const n = x0.shape[0];
      // The order of draws is part of the checkpoint format: a resumed run draws the same numbers.
      const rows = Array.from({ length: n }, () => steps[rng.nextInt(steps.length)]!);
      const noiseSeed = rng.nextSeed();
      const dropoutSeed = rng.nextSeed();
      const labels = labelsArray(batch.labels);
      if (guidanceScale !== 1 && !labels) throw new Error('distill: guidanceScale needs class labels in every batch');
      const abar = Float32Array.from(rows, (s) => ac[s.t]!);
      return tf.tidy(() => {
        const alphaCumprod = tf.tensor1d(abar, 'float32');
        const a = tf.reshape(tf.sqrt(alphaCumprod), [-1, 1, 1, 1]);
        const s = tf.reshape(tf.sqrt(tf.sub(1, alphaCumprod)), [-1, 1, 1, 1]);
        const eps = tf.randomNormal(x0.shape, 0, 1, 'float32', noiseSeed) as tf.Tensor4D;
        const z = tf.add(tf.mul(a, x0), tf.mul(s, eps)) as tf.Tensor4D;
        const { xTilde } = distillTarget(teacher, schedule, z, rows, { labels, guidanceScale, nullClass });
        const epsTilde = tf.div(tf.sub(z, tf.mul(a, xTilde)), s) as tf.Tensor4D;
        return {
          x0: xTilde,
          noise: epsTilde,
          inputNoise: epsTilde,
          t: tf.tensor1d(Float32Array.from(rows, (r) => r.t), 'float32'),
          alphaCumprod,
          weights: tf.tensor1d(distillWeights(options.student.prediction, weighting, abar), 'float32'),
          cond: labels ? { classLabels: tf.tensor1d(labels, 'int32') } : undefined,
          dropoutSeed,
          dropoutRate: dropoutRateAt?.(step),
        };
      });
    };
  };
}

const OWN_KEYS = ['denoiser', 'prediction', 'flow', 'fineTune', 'validation'];
export const DISTILLER_KEYS = optionKeys<DistillerOptions>()([
  ...(TRAINER_OPTION_KEYS.filter((k) => !OWN_KEYS.includes(k)) as Exclude<keyof TrainerOptions, 'denoiser' | 'prediction' | 'flow' | 'fineTune' | 'validation'>[]),
  'teacher', 'student', 'studentSteps', 'guidanceScale', 'nullClass', 'weighting',
]);

/**
 * One round of progressive distillation as a `Trainer` over the student:
 * `trainStep`, `fit`, `checkpoint`/`restore` (and `saveCheckpoint`,
 * `loadCheckpoint` from `/node`) work as for `createTrainer`. Each step draws
 * x from `data`, a student step i ~ U{1..N}, ε, and regresses the student's
 * x̂(z_t) on x̃ with weight w(λ_t) (Algorithm 2). The EMA, when
 * `regularizers.ema` is set, averages the student.
 */
export async function createDistiller(options: DistillerOptions): Promise<Trainer> {
  checkTrainerOptions('createDistiller', options, DISTILLER_KEYS);
  const checked = checkDistillerOptions(options);
  const { teacher: _t, student, studentSteps: _n, guidanceScale: _g, nullClass: _c, weighting: _w, ...trainer } = options;
  return createTrainer({ ...trainer, denoiser: student }, { prepare: distillPreparer(options, checked) });
}
