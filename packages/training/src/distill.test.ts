import * as tf from '@tensorflow/tfjs';
import { makeSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { createDistiller, distill, distillSteps, distillTarget, distillWeights, predictionTarget, type DistillStep, type DistillerOptions } from './index.js';
import { mixtureSource, ToyDenoiser } from './testing/toy.js';

const schedule = makeSchedule({ betaSchedule: 'squaredcos_cap_v2' });

/**
 * The exact denoiser of Gaussian data x | class c ~ N(μ_c, s_c² I): E[x | z_t] =
 * μ + k (z − α μ), k = α s² / (α² s² + σ²), reported in any prediction type.
 */
class GaussianTeacher {
  readonly config = { numClasses: 2 };
  constructor(readonly prediction: Prediction, readonly classes: { mu: [number, number]; sd: number }[]) {}
  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: { classLabels?: tf.Tensor1D }): tf.Tensor4D {
    const n = x.shape[0];
    const ts = t.dataSync();
    const z = x.dataSync();
    const lab = cond?.classLabels ? cond.classLabels.dataSync() : new Int32Array(n);
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const ab = schedule.alphasCumprod[ts[i]!]!;
      const [a, s] = [Math.sqrt(ab), Math.sqrt(1 - ab)];
      for (let d = 0; d < 2; d++) {
        const zi = z[2 * i + d]!;
        const xh = xhat(zi, a, s, this.classes[lab[i]!]!, d);
        out[2 * i + d] = this.prediction === 'sample' ? xh : this.prediction === 'v' ? (a * zi - xh) / s : (zi - a * xh) / s;
      }
    }
    return tf.tensor4d(out, [n, 1, 1, 2]);
  }
}

function xhat(z: number, a: number, s: number, c: { mu: [number, number]; sd: number }, d: number): number {
  const mu = c.mu[d]!;
  return mu + ((a * c.sd ** 2) / (a * a * c.sd ** 2 + s * s)) * (z - a * mu);
}

const classes = [
  { mu: [1, 0.5] as [number, number], sd: 0.3 },
  { mu: [-1, -0.5] as [number, number], sd: 0.2 },
  { mu: [0, 0] as [number, number], sd: 1.1 }, // the null class
];

/** Two DDIM steps of the exact denoiser and x̃, in doubles, element by element. */
function closedForm(z: number, st: DistillStep, cls: number, w: number, d: number): { xTilde: number; z2: number } {
  const ab = (t: number) => (t < 0 ? 1 : schedule.alphasCumprod[t]!);
  const as = (t: number) => [Math.sqrt(ab(t)), Math.sqrt(1 - ab(t))] as const;
  const guided = (zz: number, a: number, s: number) => {
    const c = xhat(zz, a, s, classes[cls]!, d);
    if (w === 1) return c;
    const u = xhat(zz, a, s, classes[2]!, d);
    return u + w * (c - u);
  };
  const [a, s] = as(st.t);
  const [a1, s1] = as(st.tMid);
  const [a2, s2] = as(st.tPrev);
  const x1 = guided(z, a, s);
  const z1 = a1 * x1 + (s1 / s) * (z - a * x1);
  const x2 = guided(z1, a1, s1);
  const z2 = a2 * x2 + (s2 / s1) * (z1 - a1 * x2);
  const r = s2 / s;
  return { xTilde: (z2 - r * z) / (a2 - r * a), z2 };
}

describe('distillSteps', () => {
  it('nests the N-step trailing grid in the 2N-step one and ends at ᾱ = 1', () => {
    const st = distillSteps(schedule, 4);
    expect(st).toEqual([
      { t: 999, tMid: 874, tPrev: 749 },
      { t: 749, tMid: 624, tPrev: 499 },
      { t: 499, tMid: 374, tPrev: 249 },
      { t: 249, tMid: 124, tPrev: -1 },
    ]);
    expect(() => distillSteps(schedule, 0)).toThrow(/studentSteps must be an integer in \[1, 500\]/);
    expect(() => distillSteps(schedule, 501)).toThrow(/studentSteps/);
  });
});

describe('distillTarget', () => {
  for (const prediction of ['sample', 'v', 'epsilon'] as const) {
    for (const w of [1, 3]) {
      it(`equals the closed form of two DDIM steps of the exact Gaussian denoiser (${prediction} teacher, guidance ${w})`, () => {
        const teacher = new GaussianTeacher(prediction, classes);
        const steps = distillSteps(schedule, 4);
        const rows = [0, 1, 2, 3, 0, 3];
        const labels = Int32Array.from([0, 1, 0, 1, 1, 0]);
        const zs = Float32Array.from({ length: 12 }, (_, i) => Math.sin(3.7 * i + 1) * 1.5);
        const z = tf.tensor4d(zs, [6, 1, 1, 2]);
        const before = tf.memory().numTensors;
        const out = distillTarget(teacher, schedule, z, rows.map((r) => steps[r]!), { labels, guidanceScale: w, nullClass: 2 });
        const xt = out.xTilde.dataSync();
        const z2 = out.z2.dataSync();
        tf.dispose([out.xTilde, out.z2]);
        expect(tf.memory().numTensors).toBe(before);
        z.dispose();
        for (let i = 0; i < 6; i++) {
          for (let d = 0; d < 2; d++) {
            const cf = closedForm(zs[2 * i + d]!, steps[rows[i]!]!, labels[i]!, w, d);
            // an ε teacher's x̂ = (z − σ ε̂)/α divides float32 rounding by α ≈ 3e-5 at t = 999
            const digits = prediction === 'epsilon' ? 2 : 4;
            expect(xt[2 * i + d]).toBeCloseTo(cf.xTilde, digits);
            expect(z2[2 * i + d]).toBeCloseTo(cf.z2, digits);
            // The defining property: one DDIM step of a model predicting x̃ lands on the teacher's two-step result.
            const st = steps[rows[i]!]!;
            const ab = schedule.alphasCumprod[st.t]!;
            const ab2 = st.tPrev < 0 ? 1 : schedule.alphasCumprod[st.tPrev]!;
            const one = Math.sqrt(ab2) * cf.xTilde + Math.sqrt((1 - ab2) / (1 - ab)) * (zs[2 * i + d]! - Math.sqrt(ab) * cf.xTilde);
            expect(one).toBeCloseTo(cf.z2, 9);
          }
        }
      });
    }
  }
});

describe('distillWeights', () => {
  it("makes the student's weighted error w(λ)‖x̃ − x̂‖² in its own prediction space", () => {
    const abar = [0.999, 0.7, 0.5, 0.2, 1e-4];
    const x = tf.tensor4d([0.3, -0.8], [1, 1, 1, 2]);
    const xh = tf.tensor4d([0.1, -0.5], [1, 1, 1, 2]);
    const z = tf.tensor4d([0.9, 0.4], [1, 1, 1, 2]);
    const errX = tf.sum(tf.square(tf.sub(x, xh))).dataSync()[0]!;
    for (const weighting of ['truncated-snr', 'snr+1'] as const) {
      for (const prediction of ['v', 'sample'] as const) {
        const ws = distillWeights(prediction, weighting, abar);
        abar.forEach((ab, i) => {
          const a = tf.tensor1d([ab]);
          // each target of x, with the ε that makes z from it
          const target = (x0: tf.Tensor4D) => predictionTarget(prediction, x0, tf.div(tf.sub(z, tf.mul(Math.sqrt(ab), x0)), Math.sqrt(1 - ab)) as tf.Tensor4D, a);
          const err = tf.sum(tf.square(tf.sub(target(x), target(xh)))).dataSync()[0]!;
          const snr = ab / (1 - ab);
          const w = weighting === 'truncated-snr' ? Math.max(snr, 1) : 1 + snr;
          expect(ws[i]! * err).toBeCloseTo(w * errX, 3);
          a.dispose();
        });
      }
    }
    tf.dispose([x, xh, z]);
  });
});

function distillerOptions(teacher: DistillerOptions['teacher'], student: ToyDenoiser, extra: Partial<DistillerOptions> = {}): DistillerOptions {
  return {
    teacher,
    student,
    schedule,
    studentSteps: 2,
    data: mixtureSource(5, 64),
    learningRate: 3e-3,
    seed: 3,
    ...extra,
  };
}

/** The mean squared distance of the student's one DDIM step from the teacher's two, over fixed inputs at every student step. */
function oneStepError(teacher: DistillerOptions['teacher'], student: ToyDenoiser, studentSteps: number, w: number): number {
  return tf.tidy(() => {
    const steps = distillSteps(schedule, studentSteps);
    const n = 128;
    const rows = Array.from({ length: n }, (_, i) => steps[i % steps.length]!);
    const labels = Int32Array.from({ length: n }, (_, i) => (i >> 2) % 2);
    const z = tf.randomNormal([n, 1, 1, 2], 0, 1, 'float32', 77) as tf.Tensor4D;
    const { z2 } = distillTarget(teacher, schedule, z, rows, { labels, guidanceScale: w, nullClass: 2 });
    const ab = (t: number) => (t < 0 ? 1 : schedule.alphasCumprod[t]!);
    const col = (f: (s: DistillStep) => number) => tf.reshape(tf.tensor1d(rows.map(f)), [-1, 1, 1, 1]);
    const a = col((s) => Math.sqrt(ab(s.t)));
    const s = col((s) => Math.sqrt(1 - ab(s.t)));
    const a2 = col((s) => Math.sqrt(ab(s.tPrev)));
    const s2 = col((s) => Math.sqrt(1 - ab(s.tPrev)));
    const v = student.predict(z, tf.tensor1d(rows.map((r) => r.t)), { classLabels: tf.tensor1d(labels, 'int32') });
    const x0 = tf.sub(tf.mul(a, z), tf.mul(s, v)); // student predicts v
    const one = tf.add(tf.mul(a2, x0), tf.mul(tf.div(s2, s), tf.sub(z, tf.mul(a, x0))));
    return tf.mean(tf.square(tf.sub(one, z2))).dataSync()[0]!;
  });
}

const weightsOf = (d: ToyDenoiser) => d.parameters().map((p) => Array.from(p.variable.dataSync()));

describe('createDistiller', () => {
  it("one round lowers the student's error against the guided teacher's two steps, with EMA, and leaks nothing", async () => {
    const teacher = new GaussianTeacher('v', classes);
    const student = new ToyDenoiser('v', 4);
    const before = tf.memory().numTensors;
    const d = await createDistiller(distillerOptions(teacher, student, { guidanceScale: 2, regularizers: { ema: { maxDecay: 0.9 }, clipGradNorm: 1 } }));
    const e0 = oneStepError(teacher, student, 2, 2);
    const { losses } = await d.fit({ steps: 250 });
    const e1 = oneStepError(teacher, student, 2, 2);
    const e1ema = d.ema!.withAveraged(() => oneStepError(teacher, student, 2, 2));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(e1).toBeLessThan(0.3 * e0);
    expect(e1ema).toBeLessThan(0.5 * e0);
    await d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    student.dispose();
  });

  it('resumed from a checkpoint equals the uninterrupted round', async () => {
    const teacher = new GaussianTeacher('sample', classes);
    const opts = (s: ToyDenoiser) => distillerOptions(teacher, s, { guidanceScale: 1.5, regularizers: { ema: true } });
    const a = new ToyDenoiser('v', 1);
    const da = await createDistiller(opts(a));
    await da.fit({ steps: 6 });

    const b = new ToyDenoiser('v', 1);
    const db = await createDistiller(opts(b));
    await db.fit({ steps: 3 });
    const ck = db.checkpoint();
    await db.dispose();
    b.dispose();

    const c = new ToyDenoiser('v', 9); // other initial weights: the checkpoint replaces them
    const dc = await createDistiller(opts(c));
    await dc.restore(ck);
    await dc.fit({ steps: 3 });
    expect(dc.step).toBe(6);
    expect(weightsOf(c)).toEqual(weightsOf(a));
    expect(dc.ema!.state().shadow).toEqual(da.ema!.state().shadow);
    await Promise.all([da.dispose(), dc.dispose()]);
    a.dispose();
    c.dispose();
  });

  it('refuses bad options by name, and a failing step leaks nothing', async () => {
    const teacher = new GaussianTeacher('v', classes);
    const s = new ToyDenoiser('v', 1);
    await expect(createDistiller(distillerOptions(teacher, new ToyDenoiser('epsilon', 1)))).rejects.toThrow(/student.prediction must be 'v' or 'sample'/);
    await expect(createDistiller(distillerOptions(teacher, s, { studentSteps: 2.5 }))).rejects.toThrow(/studentSteps must be an integer in \[1, 500\].*got 2.5/);
    await expect(createDistiller(distillerOptions(teacher, s, { weighting: 'snr' as never }))).rejects.toThrow(/weighting must be one of 'truncated-snr', 'snr\+1'/);
    await expect(createDistiller(distillerOptions(teacher, s, { regularizers: { pUncond: 0.1 } }))).rejects.toThrow(/regularizers.pUncond is not used/);
    const noLabels = { next: () => ({ images: tf.zeros([4, 1, 1, 2]) as tf.Tensor4D }) };
    const before = tf.memory().numTensors;
    const d = await createDistiller(distillerOptions(teacher, s, { guidanceScale: 2, data: noLabels }));
    await expect(d.trainStep()).rejects.toThrow(/guidanceScale needs class labels/);
    await d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
  });
});

describe('distill', () => {
  it('halves N each round, each student starting from (and becoming) the teacher', async () => {
    const teacher = new ToyDenoiser('v', 2);
    const student = new ToyDenoiser('v', 8);
    const start = weightsOf(teacher);
    const seen: { round: number; studentSteps: number; first: number[][] }[] = [];
    const before = tf.memory().numTensors;
    const r = await distill({
      teacher, student, schedule, data: mixtureSource(1, 32), learningRate: 1e-3, seed: 0,
      teacherSteps: 8, halvings: 2, stepsPerHalving: 3,
      fit: {
        onProgress: (p) => {
          if (p.done === 1 && seen.length < 2) seen.push({ round: seen.length + 1, studentSteps: 0, first: weightsOf(student) });
        },
      },
      onRound: ({ round, studentSteps }) => {
        seen[round - 1]!.studentSteps = studentSteps;
      },
    });
    expect(r.rounds.map((x) => [x.round, x.studentSteps, x.losses.length])).toEqual([[1, 4, 3], [2, 2, 3]]);
    expect(seen.map((s) => s.studentSteps)).toEqual([4, 2]);
    // the student moved away from the teacher it started from, and the final teacher is the final student
    expect(weightsOf(teacher)).not.toEqual(start);
    expect(weightsOf(student)).toEqual(weightsOf(teacher));
    expect(tf.memory().numTensors).toBe(before);
    await expect(distill({ teacher, student, schedule, data: mixtureSource(1, 8), teacherSteps: 12, halvings: 3, stepsPerHalving: 1 })).rejects.toThrow(/divisible by 2\^halvings = 8/);
    teacher.dispose();
    student.dispose();
  });

  it('guides only the first round: later teachers are students that already follow the guidance', async () => {
    const teacher = new ToyDenoiser('v', 2);
    const student = new ToyDenoiser('v', 8);
    // Rounds in which the teacher was asked for the null class (2), i.e. guided.
    const guidedRounds = new Set<number>();
    let round = 1;
    const predict = teacher.predict.bind(teacher);
    teacher.predict = (x: tf.Tensor4D, t: tf.Tensor1D, cond?: { classLabels?: tf.Tensor1D }) => {
      if (cond?.classLabels && Array.from(cond.classLabels.dataSync()).includes(2)) guidedRounds.add(round);
      return predict(x, t, cond);
    };
    await distill({
      teacher, student, schedule, data: mixtureSource(1, 8), learningRate: 1e-3, seed: 0, guidanceScale: 3,
      teacherSteps: 8, halvings: 3, stepsPerHalving: 2, onRound: () => void round++,
    });
    expect([...guidedRounds]).toEqual([1]);
    teacher.dispose();
    student.dispose();
  });
});
