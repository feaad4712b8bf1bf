import { parseSetting, type SettingName } from '@tfjs-diffusion/training';

/** The page's URL parameters, for automation: `?class=3&sampler=ddim&steps=25&guidance=3&seed=1&n=16&backend=wasm`. */

export const BACKENDS = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface PageParams {
  backend: BackendChoice;
  sampler?: string;
  /** σ plan: default, karras or exponential. */
  sigmas?: string;
  steps?: number;
  guidance?: number;
  threshold?: string;
  /** A class index, or 'all' for one column per class. */
  classLabel?: number | 'all';
  seed?: number;
  n?: number;
  eta?: number;
  /** Train this many steps on load (instead of sampling). */
  train?: number;
  batch?: number;
  lr?: number;
  /** Steps between sample previews while training (0: none). */
  previewEvery?: number;
  /** Threads to sample on with wasm when cross-origin isolated (the page and threads − 1 workers); default every core. */
  threads?: number;
  /** Sample on load. Default true unless `train` is given. */
  autostart: boolean;
}

/** A numeric parameter, checked against the one table of setting ranges (training's SETTING_RANGES). */
function num(p: URLSearchParams, key: string, setting: SettingName): number | undefined {
  const raw = p.get(key);
  if (raw === null || raw === '') return undefined;
  return parseSetting(setting, raw, `URL parameter ${key}`);
}

export function parseParams(search: string): PageParams {
  const p = new URLSearchParams(search);
  const backend = (p.get('backend') ?? 'auto') as BackendChoice;
  if (!BACKENDS.includes(backend)) throw new Error(`URL parameter backend must be one of ${BACKENDS.join(', ')}; got '${backend}'`);
  const cls = p.get('class');
  const train = num(p, 'train', 'trainSteps');
  const classLabel = cls === null || cls === '' ? undefined : cls === 'all' ? 'all' : Number(cls);
  if (typeof classLabel === 'number' && !(Number.isInteger(classLabel) && classLabel >= 0)) throw new Error(`URL parameter class must be 'all' or a class number; got '${cls}'`);
  return {
    backend,
    sampler: p.get('sampler') ?? undefined,
    sigmas: p.get('sigmas') ?? undefined,
    steps: num(p, 'steps', 'sampleSteps'),
    guidance: num(p, 'guidance', 'guidance'),
    threshold: p.get('threshold') ?? undefined,
    classLabel,
    seed: num(p, 'seed', 'seed'),
    n: num(p, 'n', 'images'),
    eta: num(p, 'eta', 'eta'),
    train,
    batch: num(p, 'batch', 'batchSize'),
    lr: num(p, 'lr', 'learningRate'),
    previewEvery: num(p, 'previewEvery', 'previewEvery'),
    threads: num(p, 'threads', 'threads'),
    autostart: p.get('autostart') !== null ? p.get('autostart') !== '0' : train === undefined,
  };
}
