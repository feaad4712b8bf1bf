// What the page holds between runs (the samplers, the shipped and current
// models, the in-tab trainer, whether a run is going) and the one way to
// switch the model in use.
import { findSampler } from '@tfjs-diffusion/samplers';
import { fillClassSelect } from './form.js';
import { disposeLoaded, type LoadedModel } from './modelFolder.js';
import { api, $ } from './page.js';
import { SIGMA_PLANS, type SamplerEntry } from './sampling.js';
import type { InTabTrainer } from './training.js';

export const state: {
  entries: SamplerEntry[];
  shipped?: LoadedModel;
  current?: LoadedModel;
  training?: InTabTrainer;
  /** A sampling or training run (or a model load) is going. */
  busy: boolean;
} = { entries: [], busy: false };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Makes `m` the model the Sample form uses (the previous one is freed unless shipped or training's), with its run's sampler settings. */
export function useModel(m: LoadedModel): void {
  const { current, shipped, training } = state;
  if (current && current !== shipped && current !== m && !(training && current.model === training.model)) disposeLoaded(current);
  state.current = m;
  api.model = m.description;
  $('model-info').textContent = `${m.description}; ${m.height}×${m.width}×${m.channels}` +
    (m.numClasses !== undefined ? `, ${m.numClasses} classes` : ', unconditional') +
    (m.notes.length ? `. Note: ${m.notes.join('; ')}` : '');
  fillClassSelect(m);
  // A run config names the demo's sampler by its registry name (e.g. 'euler-a'): the same entry here.
  const sampler = isObj(m.config.demo) && isObj(m.config.demo.sampler) ? m.config.demo.sampler : {};
  const named = typeof sampler.name === 'string' ? findSampler(sampler.name) : undefined;
  if (named && state.entries.some((e) => e.id === named.factory)) $<HTMLSelectElement>('sampler').value = named.factory;
  if (typeof sampler.sigmas === 'string' && (SIGMA_PLANS as readonly string[]).includes(sampler.sigmas)) $<HTMLSelectElement>('sigmas').value = sampler.sigmas;
  if (typeof sampler.steps === 'number' && sampler.steps > 0) $<HTMLInputElement>('steps').value = String(sampler.steps);
  if (typeof sampler.guidance === 'number') $<HTMLInputElement>('guidance').value = String(sampler.guidance);
}
