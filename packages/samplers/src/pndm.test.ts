import type { Prediction } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { pndm } from './pndm.js';
import { add, maxRelDiff, model, runSampler, scale, SD_SCHEDULE, sub, X_T } from './testing/reference.js';

/**
 * diffusers' PNDMScheduler (scheduling_pndm.py) written out with plain numbers: set_timesteps
 * with 'leading' spacing, step_prk, step_plms and _get_prev_sample (the paper's eq. 9).
 */
function diffusersPndm(n: number, skipPrkSteps: boolean, prediction: Prediction, setAlphaToOne = false, stepsOffset = 0) {
  const T = 1000;
  const ac = SD_SCHEDULE.alphasCumprod;
  const finalAlphaCumprod = setAlphaToOne ? 1 : ac[0]!;
  const ratio = Math.floor(T / n);
  const ts = Array.from({ length: n }, (_, k) => k * ratio + stepsOffset); // ascending
  let prkTimesteps: number[] = [];
  let plmsTimesteps: number[];
  if (skipPrkSteps) {
    plmsTimesteps = [...ts.slice(0, -1), ...ts.slice(-2, -1), ...ts.slice(-1)].reverse();
  } else {
    const half = Math.floor(ratio / 2);
    // np.array(ts[-4:]).repeat(2) + np.tile([0, half], 4)
    const rep = ts.slice(-4).flatMap((t) => [t, t]).map((t, k) => t + (k % 2 ? half : 0));
    // (prk[:-1].repeat(2)[1:-1])[::-1]
    prkTimesteps = rep.slice(0, -1).flatMap((t) => [t, t]).slice(1, -1).reverse();
    plmsTimesteps = ts.slice(0, -3).reverse();
  }
  const timesteps = [...prkTimesteps, ...plmsTimesteps];

  const getPrevSample = (sample: number[], t: number, prevT: number, out: number[]): number[] => {
    const at = ac[t]!;
    const ap = prevT >= 0 ? ac[prevT]! : finalAlphaCumprod;
    const bt = 1 - at;
    const bp = 1 - ap;
    let e = out;
    if (prediction === 'v') e = add(scale(out, at ** 0.5), scale(sample, bt ** 0.5));
    const sampleCoeff = (ap / at) ** 0.5;
    const denom = at * bp ** 0.5 + (at * bt * ap) ** 0.5;
    return sub(scale(sample, sampleCoeff), scale(e, (ap - at) / denom));
  };

  let counter = 0;
  let ets: number[][] = [];
  let curModelOutput: number[] | 0 = 0;
  let curSample: number[] | null = null;
  let x = [...X_T];
  const samples: number[][] = [];
  for (const timestep of timesteps) {
    const out = model(x, timestep);
    let prev: number[];
    if (counter < prkTimesteps.length && !skipPrkSteps) {
      const diffToPrev = counter % 2 ? 0 : Math.floor(Math.floor(T / n) / 2);
      const prevTimestep = timestep - diffToPrev;
      const t = prkTimesteps[Math.floor(counter / 4) * 4]!;
      let modelOutput = out;
      const acc = (c: number) => (curModelOutput === 0 ? scale(out, c) : add(curModelOutput, scale(out, c)));
      if (counter % 4 === 0) {
        curModelOutput = acc(1 / 6);
        ets.push(out);
        curSample = x;
      } else if ((counter - 1) % 4 === 0 || (counter - 2) % 4 === 0) {
        curModelOutput = acc(1 / 3);
      } else {
        modelOutput = acc(1 / 6);
        curModelOutput = 0;
      }
      prev = getPrevSample(curSample ?? x, t, prevTimestep, modelOutput);
    } else {
      let prevTimestep = timestep - Math.floor(T / n);
      let t = timestep;
      if (counter !== 1) {
        ets = ets.slice(-3);
        ets.push(out);
      } else {
        prevTimestep = timestep;
        t = timestep + Math.floor(T / n);
      }
      let modelOutput: number[];
      let sample = x;
      const e = (k: number) => ets[ets.length - k]!;
      if (ets.length === 1 && counter === 0) {
        modelOutput = out;
        curSample = x;
      } else if (ets.length === 1 && counter === 1) {
        modelOutput = scale(add(out, e(1)), 0.5);
        sample = curSample!;
        curSample = null;
      } else if (ets.length === 2) {
        modelOutput = scale(sub(scale(e(1), 3), e(2)), 1 / 2);
      } else if (ets.length === 3) {
        modelOutput = scale(add(sub(scale(e(1), 23), scale(e(2), 16)), scale(e(3), 5)), 1 / 12);
      } else {
        modelOutput = scale(add(sub(scale(e(1), 55), scale(e(2), 59)), sub(scale(e(3), 37), scale(e(4), 9))), 1 / 24);
      }
      prev = getPrevSample(sample, t, prevTimestep, modelOutput);
    }
    counter += 1;
    x = prev;
    samples.push(x);
  }
  return { timesteps, samples };
}

describe('pndm', () => {
  it("lays out Stable Diffusion's PLMS timesteps (skip_prk_steps, leading, steps_offset 1)", () => {
    const ts = pndm({ skipPrkSteps: true, stepsOffset: 1 }).timesteps(SD_SCHEDULE, 10);
    expect(ts).toEqual([901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    // With the Runge–Kutta warm-up: three steps of four calls over the top of the grid, half steps between.
    const prk = pndm().timesteps(SD_SCHEDULE, 10);
    expect(prk).toEqual([900, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600, 600, 500, 400, 300, 200, 100, 0]);
  });

  for (const prediction of ['epsilon', 'v'] as Prediction[]) {
    it(`steps as diffusers' PLMS (skip_prk_steps) every step of the way, ${prediction}`, () => {
      const ref = diffusersPndm(10, true, prediction, false, 1);
      const got = runSampler(pndm({ skipPrkSteps: true, stepsOffset: 1 }), 10, prediction);
      expect(got.timesteps).toEqual(ref.timesteps);
      expect(got.leaked).toBe(0);
      got.samples.forEach((s, i) => expect(maxRelDiff(s, ref.samples[i]!)).toBeLessThan(1e-4));
    });

    it(`steps as diffusers' Runge–Kutta warm-up then PLMS, ${prediction}`, () => {
      const ref = diffusersPndm(10, false, prediction, true);
      const got = runSampler(pndm({ setAlphaToOne: true }), 10, prediction);
      expect(got.timesteps).toEqual(ref.timesteps);
      expect(got.leaked).toBe(0);
      got.samples.forEach((s, i) => expect(maxRelDiff(s, ref.samples[i]!)).toBeLessThan(1e-4));
    });
  }

  it('refuses the warm-up with fewer than 4 steps', () => {
    expect(() => pndm().timesteps(SD_SCHEDULE, 3)).toThrow('numInferenceSteps must be >= 4 with the Runge–Kutta warm-up (skipPrkSteps: false); got 3');
  });
});
