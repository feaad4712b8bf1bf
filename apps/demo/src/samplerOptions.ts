import { SAMPLER_REGISTRY, samplerEntry } from '@tfjs-diffusion/samplers';
import { SIGMA_PLANS, type SigmaPlan } from './presets.js';

const PLAN_OPTION = { karras: 'useKarrasSigmas', exponential: 'useExponentialSigmas' } as const;

/** The registry names of the samplers that take σ plan `plan`. */
export function samplersWithPlan(plan: Exclude<SigmaPlan, 'default'>): string[] {
  return SAMPLER_REGISTRY.filter((e) => Object.hasOwn(e.options, PLAN_OPTION[plan])).map((e) => e.name);
}

/**
 * The factory options of the demo's recipe for a registry sampler: trailing spacing (the first step
 * starts at the last training timestep), the entry's uniform options, DDIM's η and the σ plan.
 * A σ plan the sampler does not take is refused, naming the samplers that take it.
 */
export function samplerOptions(name: string, opts: { eta?: number; sigmas?: SigmaPlan } = {}): Record<string, unknown> {
  const entry = samplerEntry(name, '--sampler');
  // Flow-matching samplers have no spacing: their grid starts at σ = 1.
  const options: Record<string, unknown> = { ...(Object.hasOwn(entry.options, 'timestepSpacing') && { timestepSpacing: 'trailing' }), ...entry.uniformOptions };
  // The config's eta is DDIM's: its default 0 would make Euler ancestral deterministic.
  if (opts.eta !== undefined && entry.factory === 'ddim') options.eta = opts.eta;
  const plan = opts.sigmas ?? 'default';
  if (plan === 'default') return options;
  if (!Object.hasOwn(PLAN_OPTION, plan)) throw new Error(`--sigmas must be one of ${SIGMA_PLANS.join(', ')}; got '${plan}'`);
  if (!Object.hasOwn(entry.options, PLAN_OPTION[plan])) {
    throw new Error(`--sigmas ${plan}: sampler '${name}' has no σ plan of its own; ${plan} σ work with ${samplersWithPlan(plan).join(', ')}`);
  }
  options[PLAN_OPTION[plan]] = true;
  return options;
}
