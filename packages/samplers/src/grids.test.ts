import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { euler } from './euler.js';
import { heun } from './heun.js';
import { ddim } from './ddim.js';

// Grids as diffusers' set_timesteps builds them, worked out by hand for T = 1000.
const schedule = makeSchedule();
const ac = schedule.alphasCumprod;
const sigma = (t: number) => Math.sqrt((1 - ac[t]) / ac[t]);
const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(1e-9 * Math.max(1, Math.abs(b)));

describe('sampler grids', () => {
  it('euler linspace keeps fractional timesteps and interpolates σ linearly', () => {
    const s = euler();
    expect(s.timesteps(schedule, 4)).toEqual([999, 666, 333, 0]);
    const ts = s.timesteps(schedule, 3);
    expect(ts).toEqual([999, 499.5, 0]);
    const levels = s.alphasCumprod!(schedule, ts);
    const sMid = (sigma(499) + sigma(500)) / 2;
    close(levels[1], 1 / (1 + sMid * sMid));
    close(levels[0], ac[999]);
    expect(levels[3]).toBe(1);
  });

  it('euler karras runs between the grid’s own σ extremes', () => {
    const s = euler({ useKarrasSigmas: true, timestepSpacing: 'leading', stepsOffset: 1 });
    const ts = s.timesteps(schedule, 10);
    const levels = s.alphasCumprod!(schedule, ts);
    close(Math.sqrt((1 - levels[0]) / levels[0]), sigma(901));
    close(Math.sqrt((1 - levels[9]) / levels[9]), sigma(1));
    close(ts[0], 901);
    close(ts[9], 1);
  });

  it('dpm-solver linspace and leading follow DPMSolverMultistepScheduler', () => {
    expect(dpmSolverPlusPlus2M().timesteps(schedule, 10)).toEqual([999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
    expect(dpmSolverPlusPlus2M({ timestepSpacing: 'leading', stepsOffset: 1 }).timesteps(schedule, 10)).toEqual([
      901, 811, 721, 631, 541, 451, 361, 271, 181, 91,
    ]);
  });

  it('dpm-solver karras spans σ(0)…σ(T−1) with rounded timesteps', () => {
    const s = dpmSolverPlusPlus2M({ useKarrasSigmas: true });
    const ts = s.timesteps(schedule, 8);
    const levels = s.alphasCumprod!(schedule, ts);
    close(Math.sqrt((1 - levels[0]) / levels[0]), sigma(999));
    close(Math.sqrt((1 - levels[7]) / levels[7]), sigma(0));
    expect(ts.every(Number.isInteger)).toBe(true);
    expect(ts[0]).toBe(999);
    expect(ts[7]).toBe(0);
  });

  it('heun and ddim name a bad spacing', () => {
    expect(() => heun({ timestepSpacing: 'even' as 'leading' })).toThrow(/timestepSpacing must be one of/);
    expect(() => dpmSolverPlusPlus2M({ timestepSpacing: 'even' as 'leading' })).toThrow(/timestepSpacing must be one of/);
    expect(() => ddim({ timestepSpacing: 'even' as 'leading' })).toThrow(/timestepSpacing must be one of/);
  });
});
