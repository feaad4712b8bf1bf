// The page's form fields: read as a sampling request or training settings,
// filled from a model and from the URL parameters.
import { gridCols } from './grid.js';
import type { LoadedModel } from './modelFolder.js';
import type { PageParams } from './params.js';
import { findSampler } from '@tfjs-diffusion/samplers';
import { SIGMA_PLANS, type SampleRequest, type SamplerEntry, type SigmaPlan, type Threshold } from './sampling.js';
import { $ } from './page.js';
import { parseSetting, SETTING_RANGES, type SettingName, type SettingRange } from '@tfjs-diffusion/training';

/** A number field's value; with `setting`, checked against the one table of ranges (the URL parameters' too). */
export function numberInput(id: string, setting?: SettingName): number {
  const el = $<HTMLInputElement>(id);
  const label = el.labels?.[0]?.textContent?.trim() ?? id;
  if (setting !== undefined) return parseSetting(setting, el.value, label);
  const v = Number(el.value);
  if (el.value.trim() === '' || !Number.isFinite(v)) throw new Error(`${label} must be a number; got '${el.value}'`);
  return v;
}

/** The form's number fields and their settings: each field's min and max come from the table. */
const FIELD_SETTINGS: Record<string, SettingName> = {
  steps: 'sampleSteps', guidance: 'guidance', seed: 'seed', n: 'images', eta: 'eta',
  'train-steps': 'trainSteps', 'train-batch': 'batchSize', 'train-lr': 'learningRate', 'train-seed': 'seed', 'train-preview-every': 'previewEvery',
};

/** Sets each number field's min and max from the table of setting ranges. */
export function applyRanges(): void {
  for (const [id, name] of Object.entries(FIELD_SETTINGS)) {
    const el = document.getElementById(id) as HTMLInputElement | null;
    if (!el) continue;
    const r: SettingRange = SETTING_RANGES[name];
    // A fractional minimum would shift the field's step grid (learning rate: step 0.0005 from 0).
    if (r.integer || r.min === 0) el.min = String(r.min);
    if (r.max !== Number.MAX_SAFE_INTEGER) el.max = String(r.max);
  }
}

/** The class select for `m`: every class, one of them, or unconditional. */
export function fillClassSelect(m: LoadedModel): void {
  const sel = $<HTMLSelectElement>('class');
  const prev = sel.value;
  sel.replaceChildren();
  if (m.numClasses === undefined) {
    sel.append(new Option('unconditional', ''));
    sel.disabled = true;
    return;
  }
  sel.disabled = false;
  const dataset = m.config.dataset;
  const names = typeof dataset === 'object' && dataset !== null && 'classNames' in dataset && Array.isArray(dataset.classNames) ? dataset.classNames.map(String) : undefined;
  sel.append(new Option('every class (one column each)', 'all'));
  for (let c = 0; c < m.numClasses; c++) sel.append(new Option(names?.[c] !== undefined && names[c] !== String(c) ? `${c}: ${names[c]}` : String(c), String(c)));
  if ([...sel.options].some((o) => o.value === prev)) sel.value = prev;
}

/** The sampling request of the form, for the model `current`. */
export function readRequest(current: LoadedModel | undefined): SampleRequest & { cols: number } {
  if (!current) throw new Error('no model is loaded');
  const cls = $<HTMLSelectElement>('class').value;
  const n = numberInput('n', 'images');
  const every = cls === 'all' && current.numClasses !== undefined;
  const labels = current.numClasses === undefined ? undefined
    : every ? Array.from({ length: n }, (_, i) => i % current.numClasses!)
    : Array.from({ length: n }, () => Number(cls));
  return {
    sampler: $<HTMLSelectElement>('sampler').value,
    sigmas: $<HTMLSelectElement>('sigmas').value as SigmaPlan,
    steps: numberInput('steps', 'sampleSteps'),
    guidance: numberInput('guidance', 'guidance'),
    threshold: $<HTMLSelectElement>('threshold').value as Threshold,
    eta: numberInput('eta', 'eta'),
    seed: numberInput('seed', 'seed'),
    n,
    labels,
    cols: gridCols(n, every ? current.numClasses : undefined),
  };
}

export function readTrainSettings() {
  return { steps: numberInput('train-steps', 'trainSteps'), batchSize: numberInput('train-batch', 'batchSize'), lr: numberInput('train-lr', 'learningRate'), seed: numberInput('train-seed', 'seed') };
}

/** The URL's parameters into the form; `numClasses` of the model in use. */
export function applyParams(p: PageParams, entries: SamplerEntry[], numClasses: number | undefined): void {
  const set = (id: string, v: unknown) => {
    if (v !== undefined) $<HTMLInputElement>(id).value = String(v);
  };
  if (p.sampler !== undefined) {
    // The factory name or the registry's short name ('eulerAncestral' or 'euler-a').
    const id = findSampler(p.sampler)?.factory;
    if (!id || !entries.some((e) => e.id === id)) throw new Error(`URL parameter sampler must be one of ${entries.map((e) => e.id).join(', ')}; got '${p.sampler}'`);
    $<HTMLSelectElement>('sampler').value = id;
  }
  if (p.sigmas !== undefined) {
    if (!(SIGMA_PLANS as readonly string[]).includes(p.sigmas)) throw new Error(`URL parameter sigmas must be one of ${SIGMA_PLANS.join(', ')}; got '${p.sigmas}'`);
    $<HTMLSelectElement>('sigmas').value = p.sigmas;
  }
  if (p.threshold !== undefined) {
    if (!['none', 'clip', 'dynamic'].includes(p.threshold)) throw new Error(`URL parameter threshold must be one of none, clip, dynamic; got '${p.threshold}'`);
    $<HTMLSelectElement>('threshold').value = p.threshold;
  }
  if (p.classLabel !== undefined) {
    const sel = $<HTMLSelectElement>('class');
    if (![...sel.options].some((o) => o.value === String(p.classLabel))) {
      throw new Error(`URL parameter class must be 'all' or a class from 0 to ${(numClasses ?? 1) - 1}; got '${p.classLabel}'`);
    }
    sel.value = String(p.classLabel);
  }
  set('steps', p.steps);
  set('guidance', p.guidance);
  set('seed', p.seed);
  set('n', p.n);
  set('eta', p.eta);
  set('train-steps', p.train);
  set('train-batch', p.batch);
  set('train-lr', p.lr);
  set('train-preview-every', p.previewEvery);
}
