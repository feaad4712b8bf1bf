// distill()'s rounds on fit: a stop signal, a stopped distillation continued from its round and checkpoint, per-round options.
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { distill, type Checkpoint, type DistillOptions } from './index.js';
import { mixtureSource, ToyDenoiser } from './testing/toy.js';

const schedule = makeSchedule({ betaSchedule: 'squaredcos_cap_v2' });
const weightsOf = (d: ToyDenoiser) => d.parameters().map((p) => Array.from(p.variable.dataSync()));

function base(teacher: ToyDenoiser, student: ToyDenoiser): DistillOptions {
  return {
    teacher, student, schedule, data: mixtureSource(1, 8), learningRate: 1e-3, seed: 0,
    regularizers: { ema: { decay: 0.5 } },
    teacherSteps: 8, halvings: 2, stepsPerHalving: 3,
    // Each round its own data and seed.
    roundOptions: ({ round }) => ({ data: mixtureSource(10 + round, 8), seed: 100 + round }),
  };
}

describe('distill on fit', () => {
  it('a distillation stopped in round 2 continues from that round and its checkpoint to the uninterrupted result, bit for bit', async () => {
    const [ta, sa] = [new ToyDenoiser('v', 2), new ToyDenoiser('v', 8)];
    const whole = await distill(base(ta, sa));
    expect(whole.stopped).toBe(false);

    const [tb, sb] = [new ToyDenoiser('v', 2), new ToyDenoiser('v', 8)];
    const before = tf.memory().numTensors;
    const stop = new AbortController();
    let round = 0;
    let saved: Checkpoint | undefined;
    const steps: [number, number][] = [];
    const part = await distill({
      ...base(tb, sb),
      onRoundStart: (r) => { round = r.round; },
      fit: { signal: stop.signal, onStep: (e) => { steps.push([round, e.step]); if (round === 2 && e.step === 1) stop.abort(); } },
      onRound: (r) => { if (r.stopped) saved = r.trainer.checkpoint(); },
    });
    expect(part.stopped).toBe(true);
    expect(part.rounds.map((r) => [r.round, r.losses.length])).toEqual([[1, 3], [2, 1]]);
    expect(steps).toEqual([[1, 1], [1, 2], [1, 3], [2, 1]]);
    expect(saved!.state.step).toBe(1);
    expect(tf.memory().numTensors).toBe(before);

    // A new process: the teacher is round 1's student (tb holds it: a stopped round leaves the teacher as it was).
    const [tc, sc] = [new ToyDenoiser('v', 3), new ToyDenoiser('v', 9)];
    tc.parameters().forEach((p, i) => p.variable.assign(tb.parameters()[i]!.variable));
    const rest = await distill({ ...base(tc, sc), startRound: 2, onRoundStart: ({ trainer }) => trainer.restore(saved!) });
    expect(rest.rounds.map((r) => [r.round, r.studentSteps, r.losses.length])).toEqual([[2, 2, 2]]);
    expect(weightsOf(sc)).toEqual(weightsOf(sa));
    expect(weightsOf(tc)).toEqual(weightsOf(ta));
    for (const d of [ta, sa, tb, sb, tc, sc]) d.dispose();
  });

  it('a signal aborted between rounds starts no further round', async () => {
    const [t, s] = [new ToyDenoiser('v', 2), new ToyDenoiser('v', 8)];
    const stop = new AbortController();
    const started: number[] = [];
    const r = await distill({
      ...base(t, s), fit: { signal: stop.signal }, onRoundStart: ({ round }) => { started.push(round); },
      onRound: () => stop.abort(),
    });
    expect(r.stopped).toBe(true);
    expect(started).toEqual([1]);
    expect(r.rounds.map((x) => x.round)).toEqual([1]);
    t.dispose();
    s.dispose();
  });

  it('refuses a startRound outside the rounds, by name', async () => {
    const [t, s] = [new ToyDenoiser('v', 2), new ToyDenoiser('v', 8)];
    await expect(distill({ ...base(t, s), startRound: 4 })).rejects.toThrow(/startRound must be an integer in \[1, 3\]/);
    // Every round done: nothing trains, the student gets the teacher's weights.
    const r = await distill({ ...base(t, s), startRound: 3 });
    expect(r.rounds).toEqual([]);
    expect(weightsOf(s)).toEqual(weightsOf(t));
    t.dispose();
    s.dispose();
  });
});
