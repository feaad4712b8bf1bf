import { describe, expect, it } from 'vitest';
import { makeSchedule, timesteps } from './index.js';

const range = (start: number, stop: number, step: number): number[] => {
  const out: number[] = [];
  for (let x = start; step > 0 ? x < stop : x > stop; x += step) out.push(x);
  return out;
};

describe('timesteps (as diffusers DDIM/DDPM set_timesteps)', () => {
  const s1000 = makeSchedule();

  it('leading, T=1000, n=50, offset 1: 981, 961, ..., 1', () => {
    expect(timesteps(s1000, 50, { timestepSpacing: 'leading', stepsOffset: 1 })).toEqual(range(981, 0, -20));
    expect(timesteps(s1000, 50)).toEqual(range(980, -1, -20));
  });

  it('leading with T not divisible by n uses T // n', () => {
    // T=1000, n=3: ratio 333 → [666, 333, 0]
    expect(timesteps(s1000, 3)).toEqual([666, 333, 0]);
    // T=1000, n=7: ratio 142
    expect(timesteps(s1000, 7, { stepsOffset: 1 })).toEqual([853, 711, 569, 427, 285, 143, 1]);
  });

  it('trailing, T=1000, n=50: 999, 979, ..., 19', () => {
    expect(timesteps(s1000, 50, { timestepSpacing: 'trailing' })).toEqual(range(999, 0, -20));
  });

  it('trailing with fractional ratio rounds (half to even) then subtracts 1', () => {
    // 1000/3 = 333.33: 1000, 666.67, 333.33 → 1000, 667, 333 → minus 1
    expect(timesteps(s1000, 3, { timestepSpacing: 'trailing' })).toEqual([999, 666, 332]);
    // T=10, n=4: 10, 7.5, 5, 2.5 → 10, 8, 5, 2 (numpy rounds halves to even) → 9, 7, 4, 1
    const s10 = makeSchedule({ numTrainTimesteps: 10 });
    expect(timesteps(s10, 4, { timestepSpacing: 'trailing' })).toEqual([9, 7, 4, 1]);
    // stepsOffset is a leading-only option in diffusers
    expect(timesteps(s10, 4, { timestepSpacing: 'trailing', stepsOffset: 1 })).toEqual([9, 7, 4, 1]);
  });

  it('trailing gives exactly n distinct steps in [0, T) for every n up to T (T = 1000)', () => {
    const bad: string[] = [];
    for (let n = 1; n <= 1000; n++) {
      const ts = timesteps(s1000, n, { timestepSpacing: 'trailing' });
      if (ts.length !== n || ts[0] !== 999 || ts[n - 1]! < 0) bad.push(`n=${n}: length/ends`);
      // the i-th step is round(T − i·T/n) − 1, up to rounding of the float ratio
      for (let i = 0; i < n; i++) {
        if (Math.abs(ts[i]! - (1000 - (i * 1000) / n - 1)) > 0.5 + 1e-9) bad.push(`n=${n}, i=${i}`);
        if (i > 0 && ts[i]! >= ts[i - 1]!) bad.push(`n=${n}, i=${i} not descending`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('linspace: round(linspace(0, T-1, n)) descending', () => {
    // 999/49 = 20.387…: i·20.387 rounded
    const want = Array.from({ length: 50 }, (_, i) => Math.round((i * 999) / 49)).reverse();
    expect(timesteps(s1000, 50, { timestepSpacing: 'linspace' })).toEqual(want);
    expect(timesteps(s1000, 50, { timestepSpacing: 'linspace' }).slice(0, 3)).toEqual([999, 979, 958]);
    // T=10, n=3: 0, 4.5, 9 → 4.5 rounds to even 4
    expect(timesteps(makeSchedule({ numTrainTimesteps: 10 }), 3, { timestepSpacing: 'linspace' })).toEqual([9, 4, 0]);
    // T=6, n=3: 0, 2.5, 5 → 2
    expect(timesteps(makeSchedule({ numTrainTimesteps: 6 }), 3, { timestepSpacing: 'linspace' })).toEqual([5, 2, 0]);
    expect(timesteps(s1000, 1, { timestepSpacing: 'linspace' })).toEqual([0]);
  });

  it('n = T gives every timestep for each spacing', () => {
    const all = range(999, -1, -1);
    expect(timesteps(s1000, 1000)).toEqual(all);
    expect(timesteps(s1000, 1000, { timestepSpacing: 'trailing' })).toEqual(all);
    expect(timesteps(s1000, 1000, { timestepSpacing: 'linspace' })).toEqual(all);
  });

  it('errors name the parameter and the accepted range', () => {
    expect(() => timesteps(s1000, 0)).toThrow('numInferenceSteps must be an integer in [1, 1000]; got 0');
    expect(() => timesteps(s1000, 1001)).toThrow('numInferenceSteps must be an integer in [1, 1000]; got 1001');
    expect(() => timesteps(s1000, 2.5)).toThrow(/numInferenceSteps must be an integer/);
    expect(() => timesteps(s1000, 10, { timestepSpacing: 'uniform' as never })).toThrow(
      "timestepSpacing must be one of 'leading', 'trailing', 'linspace'; got 'uniform'",
    );
    expect(() => timesteps(s1000, 10, { stepsOffset: -1 })).toThrow(/stepsOffset must be an integer >= 0/);
    expect(() => timesteps(s1000, 1000, { stepsOffset: 1 })).toThrow(/stepsOffset must be <= 0; got 1/);
  });
});
