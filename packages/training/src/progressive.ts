// Progressive distillation's rounds (Salimans & Ho 2022, Algorithm 2) on
// `fit`: each round a distiller trains the student, which then becomes the
// teacher of the next round at half the steps.
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { createDistiller, DISTILLER_KEYS, type DistillerOptions } from './distill.js';
import { FIT_KEYS } from './fit.js';
import type { FitOptions, Trainer } from './fitTypes.js';
import type { TrainableDenoiser } from './types.js';

/**
 * The guidance scale of halving `round` (1-based): the first teacher's
 * `guidanceScale`, then 1. Guidance is distilled into the first student; later
 * teachers are students that already follow it, and guiding them again would
 * compound the scale (each class collapses to one image).
 */
export function halvingGuidance<G extends number | undefined>(round: number, guidanceScale: G): G | 1 {
  return round === 1 ? guidanceScale : 1;
}

/** Copies `from`'s weights into `to` by parameter name (EMA weights when `ema` is given). */
function copyWeights(from: TrainableDenoiser, to: TrainableDenoiser, ema: Trainer['ema']): void {
  const target = new Map(to.parameters().map((p) => [p.name, p.variable]));
  const run = () => {
    for (const p of from.parameters()) {
      const v = target.get(p.name);
      if (!v) throw new Error(`distill: parameter '${p.name}' is in one of teacher and student only (they must be one architecture)`);
      if (v.shape.join() !== p.variable.shape.join()) throw new Error(`distill: parameter '${p.name}' has shape [${p.variable.shape}] in one of teacher and student, [${v.shape}] in the other`);
      v.assign(p.variable);
    }
  };
  if (ema) ema.withAveraged(run);
  else run();
}

/** One round, as the hooks see it. */
export interface DistillRound {
  round: number;
  studentSteps: number;
  trainer: Trainer;
}

export interface DistillOptions extends Omit<DistillerOptions, 'studentSteps'> {
  /** The teacher's DDIM steps in the first round (2N); halved every round. */
  teacherSteps: number;
  /** Rounds k: the student of the last round takes teacherSteps / 2^k steps. */
  halvings: number;
  /** Optimisation steps per round. */
  stepsPerHalving: number;
  /**
   * The first round to train (1-based; default 1). The rounds before it are
   * done and `teacher` holds the last of their students: a stopped
   * distillation continues here.
   */
  startRound?: number;
  /** A round's options over the shared ones (e.g. its own `data` and `seed`). */
  roundOptions?: (r: { round: number; studentSteps: number }) => Partial<Omit<DistillerOptions, 'teacher' | 'student' | 'studentSteps'>>;
  /**
   * Called with each round's trainer before it trains, e.g. to restore the
   * round's checkpoint: the round then trains from `trainer.step` to `stepsPerHalving`.
   */
  onRoundStart?: (r: DistillRound) => unknown;
  /** Passed to each round's `fit`: `signal` stops the distillation, `onStep` sees every step of every round. */
  fit?: Omit<FitOptions, 'steps'>;
  /**
   * Called after each round's `fit` with its trainer (before the student becomes
   * the teacher), e.g. to save the student; also when `fit.signal` stopped the round (`stopped`).
   */
  onRound?: (r: DistillRound & { stopped: boolean }) => unknown;
}

export interface DistillResult {
  rounds: { round: number; studentSteps: number; losses: number[] }[];
  /** True when `fit.signal` stopped a round (the last in `rounds`, trained in part) or came between rounds; later rounds did not start. */
  stopped: boolean;
}

const DISTILL_KEYS = optionKeys<DistillOptions>()([
  ...(DISTILLER_KEYS.filter((k) => k !== 'studentSteps') as Exclude<keyof DistillerOptions, 'studentSteps'>[]),
  'teacherSteps', 'halvings', 'stepsPerHalving', 'startRound', 'roundOptions', 'onRoundStart', 'fit', 'onRound',
]);

/**
 * Progressive distillation, Algorithm 2: k rounds; each starts the student
 * from the teacher (η ← θ), trains it on two teacher steps per student step,
 * then makes it the teacher (θ ← η, its EMA when kept) and halves N. Guidance
 * (`guidanceScale`) applies to the first round's teacher only. `teacher`
 * and `student` are two instances of one architecture; at the end `student`
 * holds the last student's weights (the EMA when kept) and `teacher` too.
 * A stopped round leaves `student` as trained so far and `teacher` as it was.
 */
export async function distill(options: DistillOptions): Promise<DistillResult> {
  checkOptions('distill', options, DISTILL_KEYS);
  checkOptions('distill', options.fit, FIT_KEYS.filter((k) => k !== 'steps'), 'fit');
  const { teacherSteps, halvings, stepsPerHalving, startRound = 1, roundOptions, onRoundStart, fit: fitOpts = {}, onRound, ...rest } = options;
  if (!Number.isInteger(halvings) || halvings < 1) throw new RangeError(`distill: halvings must be a positive integer; got ${halvings}`);
  if (!Number.isInteger(stepsPerHalving) || stepsPerHalving < 0) throw new RangeError(`distill: stepsPerHalving must be a non-negative integer; got ${stepsPerHalving}`);
  if (!Number.isInteger(teacherSteps) || teacherSteps % 2 ** halvings !== 0) {
    throw new RangeError(`distill: teacherSteps must be an integer divisible by 2^halvings = ${2 ** halvings}; got ${teacherSteps}`);
  }
  if (!Number.isInteger(startRound) || startRound < 1 || startRound > halvings + 1) {
    throw new RangeError(`distill: startRound must be an integer in [1, ${halvings + 1}] (halvings + 1: every round done); got ${startRound}`);
  }
  const teacher = rest.teacher as TrainableDenoiser;
  if (typeof teacher.parameters !== 'function') throw new TypeError('distill: teacher must have parameters() (its weights start each student and receive each student)');
  const rounds: DistillResult['rounds'] = [];
  for (let round = startRound, n = teacherSteps / 2 ** startRound; round <= halvings; round++, n /= 2) {
    if (fitOpts.signal?.aborted) return { rounds, stopped: true };
    copyWeights(teacher, rest.student, undefined);
    const trainer = await createDistiller({
      ...rest, ...roundOptions?.({ round, studentSteps: n }), studentSteps: n, guidanceScale: halvingGuidance(round, rest.guidanceScale),
    });
    try {
      const r = { round, studentSteps: n, trainer };
      await onRoundStart?.(r);
      const { losses, stopped } = await trainer.fit({ ...fitOpts, steps: Math.max(0, stepsPerHalving - trainer.step) });
      await onRound?.({ ...r, stopped });
      rounds.push({ round, studentSteps: n, losses });
      if (stopped) return { rounds, stopped };
      copyWeights(rest.student, teacher, trainer.ema);
    } finally {
      await trainer.dispose();
    }
  }
  copyWeights(teacher, rest.student, undefined);
  return { rounds, stopped: false };
}
