import { ddimEntry } from './ddim.js';
import { ddpmEntry } from './ddpm.js';
import { dpmSolverEntry } from './dpm-solver.js';
import { callWithUncheckedOptions, type SamplerEntry } from './entry.js';
import { eulerAncestralEntry } from './euler-ancestral.js';
import { eulerEntry } from './euler.js';
import { flowMatchEulerEntry } from './flow-match-euler.js';
import { flowMatchHeunEntry } from './flow-match-heun.js';
import { heunEntry } from './heun.js';
import { lmsEntry } from './lms.js';
import { pndmEntry } from './pndm.js';
import type { Sampler } from './types.js';
import { uniPCEntry } from './unipc.js';

/**
 * Every built-in sampler, in the order menus list them. A new sampler is its own file (the factory
 * and its `defineSampler` entry) and one line here; `describeSampler`, `samplerFromSpec`,
 * `fromDiffusersConfig`, the demo's CLI and the playground read this list.
 */
export const SAMPLER_REGISTRY = [
  ddimEntry,
  ddpmEntry,
  eulerEntry,
  eulerAncestralEntry,
  heunEntry,
  dpmSolverEntry,
  pndmEntry,
  lmsEntry,
  uniPCEntry,
  flowMatchEulerEntry,
  flowMatchHeunEntry,
] as const;

/** A registered sampler's short name ('ddim', 'euler-a', 'dpmpp-2m', …). */
export type SamplerName = (typeof SAMPLER_REGISTRY)[number]['name'];

/** The diffusers scheduler classes the registered samplers read. */
export type DiffusersSchedulerName = (typeof SAMPLER_REGISTRY)[number] extends infer E ? (E extends SamplerEntry<never, string, infer C> ? C : never) : never;

/** The short names of the registered samplers, in registry order. */
export const SAMPLER_NAMES: readonly SamplerName[] = SAMPLER_REGISTRY.map((e) => e.name);

const ENTRIES: readonly SamplerEntry[] = SAMPLER_REGISTRY;

/** The entry whose short name or factory name is `name` (so 'euler-a' and 'eulerAncestral' are the same); undefined if none. */
export function findSampler(name: string): SamplerEntry | undefined {
  return ENTRIES.find((e) => e.name === name || e.factory === name);
}

/** Like `findSampler`, but an unknown name throws, listing the names accepted. */
export function samplerEntry(name: string, what = 'sampler'): SamplerEntry {
  const entry = typeof name === 'string' ? findSampler(name) : undefined;
  if (!entry) throw new Error(`${what} must be one of ${SAMPLER_NAMES.map((n) => `'${n}'`).join(', ')}; got ${JSON.stringify(name)}`);
  return entry;
}

/** A registered sampler built by name with `options` (the factory's own defaults fill the rest). */
export function createSampler(name: string, options: Record<string, unknown> = {}): Sampler {
  return callWithUncheckedOptions(samplerEntry(name).create, options);
}

/** Whether the named sampler's factory takes option `key`. */
export function samplerTakes(name: string, key: string): boolean {
  return Object.hasOwn(samplerEntry(name).options, key);
}
