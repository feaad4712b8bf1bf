// fit's stop signal and per-step hook: where it stops, what the hook sees, and no tensor left behind.
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { mixtureSource, ToyDenoiser } from './testing/toy.js';
import { createTrainer, type StepEvent, type Trainer } from './index.js';

const schedule = makeSchedule({ numTrainTimesteps: 100, betaSchedule: 'linear', betaStart: 1e-3, betaEnd: 0.2 });

async function withTrainer(run: (t: Trainer) => Promise<void>, extra: { ema?: boolean } = {}): Promise<void> {
  const d = new ToyDenoiser('epsilon', 1, 16);
  const t = await createTrainer({
    denoiser: d, schedule, data: mixtureSource(7, 16), learningRate: 1e-3, seed: 3,
    regularizers: extra.ema ? { ema: { decay: 0.9 } } : undefined,
  });
  try {
    await run(t);
  } finally {
    await t.dispose();
    d.dispose();
  }
}

describe('fit: signal and onStep', () => {
  it('an abort in the hook stops at that step boundary and leaves no tensors', async () => {
    await withTrainer(async (t) => {
      await t.fit({ steps: 1 }); // the optimizer's and EMA's slots exist from here on
      const before = tf.memory().numTensors;
      const c = new AbortController();
      const r = await t.fit({ steps: 50, signal: c.signal, onStep: (e) => { if (e.done === 3) c.abort(); } });
      expect(r.stopped).toBe(true);
      expect(r.losses).toHaveLength(3);
      expect(t.step).toBe(4);
      expect(tf.memory().numTensors).toBe(before);
      // The same trainer continues from there.
      const more = await t.fit({ steps: 2 });
      expect(more.stopped).toBe(false);
      expect(t.step).toBe(6);
    }, { ema: true });
  });

  it('an abort from an event (a timer, as a signal handler or a button) is seen between steps', async () => {
    await withTrainer(async (t) => {
      const c = new AbortController();
      let seen = 0;
      setTimeout(() => c.abort(), 20);
      const r = await t.fit({ steps: 100_000, signal: c.signal, onStep: () => { seen++; } });
      expect(r.stopped).toBe(true);
      expect(r.losses.length).toBe(seen);
      expect(t.step).toBe(seen);
      expect(seen).toBeLessThan(100_000);
    });
  });

  it('an aborted signal trains no step', async () => {
    await withTrainer(async (t) => {
      const r = await t.fit({ steps: 5, signal: AbortSignal.abort() });
      expect(r).toEqual({ losses: [], validation: [], stopped: true });
      expect(t.step).toBe(0);
    });
  });

  it('the hook sees every step, in order, with rate and ETA, and is awaited before the next step', async () => {
    await withTrainer(async (t) => {
      await t.fit({ steps: 2 });
      const seen: StepEvent[] = [];
      let inHook = false;
      const r = await t.fit({
        steps: 6,
        every: { log: 2 },
        onStep: async (e) => {
          expect(inHook).toBe(false);
          expect(e.trainer.step).toBe(e.step);
          inHook = true;
          await new Promise((res) => setTimeout(res, 1));
          inHook = false;
          seen.push(e);
        },
      });
      expect(seen.map((e) => e.step)).toEqual([3, 4, 5, 6, 7, 8]);
      expect(seen.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(seen.map((e) => e.loss)).toEqual(r.losses);
      expect(seen.every((e) => e.total === 6)).toBe(true);
      expect(seen.map((e) => e.last)).toEqual([false, false, false, false, false, true]);
      // The log window's metrics ride on the steps that emit them.
      expect(seen.map((e) => e.metrics?.step)).toEqual([undefined, 4, undefined, 6, undefined, 8]);
      for (const e of seen) {
        expect(e.stepsPerSecond).toBeGreaterThan(0);
        // The step alone is faster than the step with its (1 ms) hook.
        expect(e.stepSeconds).toBeGreaterThan(0);
        expect(e.stepSeconds).toBeLessThan(e.done / e.stepsPerSecond);
        expect(e.etaSeconds).toBeCloseTo((e.total - e.done) / e.stepsPerSecond, 9);
      }
      expect(seen.at(-1)!.etaSeconds).toBe(0);
    });
  });

  it('a hook that throws stops training with its error and leaves no tensors', async () => {
    await withTrainer(async (t) => {
      await t.fit({ steps: 1 });
      const before = tf.memory().numTensors;
      const c = new AbortController();
      await expect(t.fit({ steps: 10, signal: c.signal, onStep: async (e) => { if (e.done === 2) throw new Error('disk full'); } })).rejects.toThrow('disk full');
      expect(t.step).toBe(3);
      expect(tf.memory().numTensors).toBe(before);
    }, { ema: true });
  });

  it('refuses a signal or hook of the wrong kind, by name', async () => {
    await withTrainer(async (t) => {
      await expect(t.fit({ steps: 1, signal: {} as AbortSignal })).rejects.toThrow(/signal must be an AbortSignal/);
      await expect(t.fit({ steps: 1, onStep: 3 as unknown as () => void })).rejects.toThrow(/onStep must be a function/);
      expect(t.step).toBe(0);
    });
  });
});
