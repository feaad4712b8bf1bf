import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import * as samplers from './index.js';
import { fromDiffusersConfig, SUPPORTED_DIFFUSERS_SCHEDULERS } from './from-diffusers-config.js';
import { createSampler, findSampler, SAMPLER_NAMES, SAMPLER_REGISTRY, samplerEntry, samplerTakes } from './registry.js';
import { describeSampler, samplerFromSpec } from './spec.js';
import type { Sampler } from './types.js';

const schedule = makeSchedule({ betaSchedule: 'squaredcos_cap_v2' });

// Trailing spacing where the sampler has a spacing (the flow-matching ones have their own grid).
const trailing = (e: { options: object }) => (Object.hasOwn(e.options, 'timestepSpacing') ? { timestepSpacing: 'trailing' } : {});

function plan(s: Sampler, n = 6) {
  const timesteps = s.timesteps(schedule, n);
  return { timesteps, levels: s.alphasCumprod?.(schedule, timesteps) };
}

describe('the sampler registry', () => {
  it('names each sampler once, by a short name and by its factory export', () => {
    expect(SAMPLER_NAMES).toEqual(['ddim', 'ddpm', 'euler', 'euler-a', 'heun', 'dpmpp-2m', 'pndm', 'lms', 'unipc', 'flow-euler', 'flow-heun']);
    for (const key of SAMPLER_REGISTRY.flatMap((e) => [e.name, e.factory])) {
      expect(SAMPLER_REGISTRY.filter((e) => e.name === key || e.factory === key), key).toHaveLength(1);
    }
    for (const e of SAMPLER_REGISTRY) {
      // The factory is exported under its name, and is the entry's create.
      expect((samplers as Record<string, unknown>)[e.factory]).toBe(e.create);
      expect(findSampler(e.name)).toBe(e);
      expect(findSampler(e.factory)).toBe(e);
    }
  });

  it.each(SAMPLER_REGISTRY.map((e) => [e.name, e] as const))('%s round-trips through describeSampler / samplerFromSpec', (_, e) => {
    const s = e.create({ ...trailing(e), ...e.uniformOptions } as never);
    const spec = describeSampler(s);
    expect(spec.factory).toBe(e.factory);
    const again = samplerFromSpec(structuredClone(spec));
    expect(again.name).toBe(s.name);
    expect(plan(again)).toEqual(plan(s));
    expect(createSampler(e.name, { ...trailing(e), ...e.uniformOptions }).name).toBe(s.name);
  });

  it.each(SAMPLER_REGISTRY.map((e) => [e.name, e] as const))("%s's diffusers classes build it through fromDiffusersConfig", (_, e) => {
    const classes = Object.keys(e.diffusers);
    expect(classes.length).toBeGreaterThan(0);
    for (const cls of classes) {
      expect(SUPPORTED_DIFFUSERS_SCHEDULERS).toContain(cls);
      const { sampler, className } = fromDiffusersConfig({ _class_name: cls, beta_schedule: 'squaredcos_cap_v2' });
      expect(className).toBe(cls);
      expect(describeSampler(sampler).factory).toBe(e.factory);
      // The class's own default spacing and the entry's default spacing agree.
      if (!Object.hasOwn(e.options, 'timestepSpacing')) {
        expect(plan(sampler)).toEqual(plan(e.create()));
        continue;
      }
      const spacing = ((e.options as Record<string, { default: unknown }>).timestepSpacing?.default as string | undefined) ?? 'leading';
      expect((e.diffusers as Record<string, { defaults: Record<string, unknown> }>)[cls]!.defaults.timestep_spacing).toBe(spacing);
      expect(plan(sampler)).toEqual(plan(e.create({ timestepSpacing: spacing } as never)));
    }
  });

  it('option lists name what each factory takes, with defaults', () => {
    for (const e of SAMPLER_REGISTRY) {
      for (const [key, o] of Object.entries(e.options)) {
        expect(typeof o.doc, `${e.name}.${key}`).toBe('string');
        expect(o.doc.length, `${e.name}.${key}`).toBeGreaterThan(10);
      }
    }
    expect(samplerTakes('euler-a', 'eta')).toBe(true);
    expect(samplerTakes('ddim', 'eta')).toBe(true);
    expect(samplerTakes('euler', 'eta')).toBe(false);
    for (const name of ['euler', 'euler-a', 'heun', 'lms']) {
      expect(samplerTakes(name, 'useKarrasSigmas')).toBe(true);
      expect(samplerTakes(name, 'useExponentialSigmas')).toBe(true);
    }
    expect(samplerEntry('euler').options.useKarrasSigmas!.default).toBe(false);
  });

  it('an unknown name is refused with the names accepted', () => {
    expect(() => samplerEntry('plms')).toThrow(
      "sampler must be one of 'ddim', 'ddpm', 'euler', 'euler-a', 'heun', 'dpmpp-2m', 'pndm', 'lms', 'unipc', 'flow-euler', 'flow-heun'; got \"plms\"",
    );
    expect(() => createSampler('k_euler')).toThrow(/sampler must be one of 'ddim'.*got "k_euler"/);
    expect(findSampler('nope')).toBeUndefined();
  });
});
