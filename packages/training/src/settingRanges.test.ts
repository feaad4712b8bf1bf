import { MAX_SEED, MAX_TRAIN_TIMESTEPS } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { checkSetting, describeSetting, parseSetting, SETTING_RANGES } from './settingRanges.js';

describe('the one table of setting ranges', () => {
  it('takes the seed and training-timestep limits of schedules, so the library and the table agree', () => {
    expect(SETTING_RANGES.seed).toEqual({ integer: true, min: 0, max: MAX_SEED });
    expect(SETTING_RANGES.numTrainTimesteps.max).toBe(MAX_TRAIN_TIMESTEPS);
    expect(describeSetting('eta')).toBe('a number in [0, 1]');
    expect(describeSetting('trainSteps')).toBe('an integer >= 1');
  });

  it.each([
    ['eta', '5', '--eta', "--eta must be a number in [0, 1]; got '5'"],
    ['guidance', '-1', '--guidance', "--guidance must be a number in [0, 100]; got '-1'"],
    ['learningRate', '1e9', '--lr', "--lr must be a number in [1e-8, 1]; got '1e9'"],
    ['seed', '4294967296', 'URL parameter seed', "URL parameter seed must be an integer in [0, 4294967295]; got '4294967296'"],
    ['seed', '-1', '--seed', "--seed must be an integer in [0, 4294967295]; got '-1'"],
    ['seed', '1.5', '--seed', "--seed must be an integer in [0, 4294967295]; got '1.5'"],
    ['seed', 'abc', '--seed', "--seed must be an integer in [0, 4294967295]; got 'abc'"],
    ['images', '0', '--n', "--n must be an integer in [1, 10000000]; got '0'"],
    ['images', ' ', '--n', "--n must be an integer in [1, 10000000]; got ' '"],
  ] as const)('%s %j is refused with the label and the range', (name, text, label, message) => {
    expect(() => parseSetting(name, text, label)).toThrow(message);
  });

  it('accepts the ends of each range and refuses what is past them', () => {
    for (const [name, r] of Object.entries(SETTING_RANGES) as [keyof typeof SETTING_RANGES, { min: number; max: number; integer: boolean }][]) {
      expect(checkSetting(name, r.min, name)).toBe(r.min);
      expect(checkSetting(name, r.max, name)).toBe(r.max);
      expect(() => checkSetting(name, r.min - 1, name)).toThrow(`${name} must be`);
      if (r.max < Number.MAX_SAFE_INTEGER) expect(() => checkSetting(name, r.max * 2, name)).toThrow(`${name} must be`);
      if (r.integer) expect(() => checkSetting(name, r.min + 0.5, name)).toThrow('must be an integer');
    }
    expect(parseSetting('eta', '0.25', '--eta')).toBe(0.25);
    expect(() => checkSetting('eta', '0.5', '--eta')).toThrow("got '0.5'");
  });
});
