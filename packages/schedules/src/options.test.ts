import { describe, expect, it } from 'vitest';
import { alphaCumprodAt, checkOptions, makeSchedule, nearestOption, optionKeys, scheduleFromDiffusersConfig, sigmaAt, timesteps } from './index.js';
import { editDistance } from './options.js';

describe('nearestOption', () => {
  const adamw = ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'decayMode', 'noDecay', 'groups'];
  const ema = ['decay', 'useEmaWarmup', 'invGamma', 'power', 'minDecay', 'maxDecay', 'updateEvery', 'updateAfterStep'];

  it('maps PyTorch and diffusers spellings to our keys', () => {
    expect(nearestOption('lr', adamw)).toBe('learningRate');
    expect(nearestOption('eps', adamw)).toBe('epsilon');
    expect(nearestOption('betas', adamw)).toBe('beta1');
    expect(nearestOption('weight_decay', adamw)).toBe('weightDecay');
    expect(nearestOption('use_ema_warmup', ema)).toBe('useEmaWarmup');
    expect(nearestOption('use_warmup', ema)).toBe('useEmaWarmup');
    expect(nearestOption('useWarmup', ema)).toBe('useEmaWarmup');
    expect(nearestOption('inv_gamma', ema)).toBe('invGamma');
    expect(nearestOption('update_after_step', ema)).toBe('updateAfterStep');
    expect(nearestOption('lr_scale', ['match', 'learningRateScale'])).toBe('learningRateScale');
  });

  it('finds a key that contains the given one, and typos by edit distance', () => {
    expect(nearestOption('spacing', ['timestepSpacing', 'stepsOffset'])).toBe('timestepSpacing');
    expect(nearestOption('learningRat', adamw)).toBe('learningRate');
    expect(nearestOption('weigthDecay', adamw)).toBe('weightDecay');
    expect(nearestOption('Decay', ema)).toBe('decay');
    expect(nearestOption('stratify', ['validation', 'seed', 'stratified'])).toBe('stratified');
  });

  it('suggests nothing when no key is near', () => {
    expect(nearestOption('bogus', adamw)).toBeUndefined();
    expect(nearestOption('', adamw)).toBeUndefined();
    expect(nearestOption('x', ['timestepSpacing'])).toBeUndefined();
  });

  it('edit distance counts insertions, deletions, substitutions and adjacent swaps', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('checkOptions', () => {
  const keys = ['learningRate', 'weightDecay'] as const;

  it('names the function, the key, the nearest key and the accepted keys', () => {
    expect(() => checkOptions('createAdamW', { lr: 0.01 }, keys)).toThrow(
      new TypeError("createAdamW: unknown option 'lr'; did you mean 'learningRate'? Accepted: 'learningRate', 'weightDecay'"),
    );
    expect(() => checkOptions('f', { bogus: 1 }, keys)).toThrow(new TypeError("f: unknown option 'bogus'. Accepted: 'learningRate', 'weightDecay'"));
    expect(() => checkOptions('f', { bogus: 1 }, [])).toThrow("f: unknown option 'bogus'. Accepted: none");
  });

  it('names a nested object by its path', () => {
    expect(() => checkOptions('sample', { scale: 3 }, ['guidanceScale', 'guidanceRescale'], 'guidance')).toThrow(
      "sample: unknown option 'guidance.scale'; did you mean 'guidance.guidanceScale'? Accepted in guidance: 'guidanceScale', 'guidanceRescale'",
    );
    expect(() => checkOptions('sample', 3, ['guidanceScale'], 'guidance')).toThrow("sample: option 'guidance' must be an object; got number");
  });

  it('accepts known keys with any value, undefined included, and omitted options', () => {
    expect(() => checkOptions('f', { learningRate: undefined, weightDecay: 0 }, keys)).not.toThrow();
    expect(() => checkOptions('f', {}, keys)).not.toThrow();
    expect(() => checkOptions('f', undefined, keys)).not.toThrow();
  });

  it('refuses options that are not an object', () => {
    expect(() => checkOptions('f', null, keys)).toThrow('f: options must be an object; got null');
    expect(() => checkOptions('f', 0.01, keys)).toThrow('f: options must be an object; got number');
    expect(() => checkOptions('f', [1], keys)).toThrow('f: options must be an object; got an array');
  });

  it('never echoes values and shortens a huge key', () => {
    const huge = 'x'.repeat(100_000);
    let message = '';
    try {
      checkOptions('f', { [huge]: huge, }, keys);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.length).toBeLessThan(200);
    expect(message).toContain(`'${'x'.repeat(37)}...'`);
    expect(() => checkOptions('f', { bogus: 'secret-value' }, keys)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret-value') }));
  });
});

describe('optionKeys', () => {
  interface Opts {
    a?: number;
    b?: string;
  }
  it('returns the list, frozen', () => {
    const keys = optionKeys<Opts>()(['a', 'b']);
    expect(keys).toEqual(['a', 'b']);
    expect(Object.isFrozen(keys)).toBe(true);
  });
  it('is a type error when a key is missing or unknown', () => {
    // @ts-expect-error 'b' is missing from the list
    optionKeys<Opts>()(['a']);
    // @ts-expect-error 'c' is not a key of Opts
    optionKeys<Opts>()(['a', 'b', 'c']);
  });
});

describe('schedules refuses unknown options', () => {
  const s = makeSchedule({ numTrainTimesteps: 10 });
  const cases: [string, () => unknown][] = [
    ['makeSchedule', () => makeSchedule({ bogus: 1 } as never)],
    ['timesteps', () => timesteps(s, 2, { bogus: 1 } as never)],
    ['alphaCumprodAt', () => alphaCumprodAt(s, 1, { bogus: 1 } as never)],
    ['sigmaAt', () => sigmaAt(s, 1, { bogus: 1 } as never)],
    ['scheduleFromDiffusersConfig', () => scheduleFromDiffusersConfig({}, { bogus: 1 } as never)],
  ];
  it.each(cases)('%s', (name, call) => {
    expect(call).toThrow(new RegExp(`^${name}: unknown option '(defaults\\.)?bogus'\\. Accepted`));
  });

  it('points a migrating user at the real key', () => {
    expect(() => timesteps(s, 2, { spacing: 'trailing' } as never)).toThrow(
      "timesteps: unknown option 'spacing'; did you mean 'timestepSpacing'? Accepted: 'timestepSpacing', 'stepsOffset'",
    );
    expect(() => makeSchedule({ beta_schedule: 'linear' } as never)).toThrow("did you mean 'betaSchedule'?");
    expect(() => scheduleFromDiffusersConfig({}, { trainedBetas: [0.1, 0.2] } as never)).toThrow("unknown option 'defaults.trainedBetas'");
  });
});
