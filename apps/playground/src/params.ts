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

function num(p: URLSearchParams, key: string, integer: boolean): number | undefined {
  const raw = p.get(key);
  if (raw === null || raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new Error(`URL parameter ${key} must be ${integer ? 'an integer' : 'a number'}; got '${raw}'`);
  }
  return v;
}

export function parseParams(search: string): PageParams {
  const p = new URLSearchParams(search);
  const backend = (p.get('backend') ?? 'auto') as BackendChoice;
  if (!BACKENDS.includes(backend)) throw new Error(`URL parameter backend must be one of ${BACKENDS.join(', ')}; got '${backend}'`);
  const cls = p.get('class');
  const train = num(p, 'train', true);
  const threads = num(p, 'threads', true);
  if (threads !== undefined && (threads < 1 || threads > 16)) throw new Error(`URL parameter threads must be an integer from 1 to 16; got '${threads}'`);
  return {
    backend,
    sampler: p.get('sampler') ?? undefined,
    sigmas: p.get('sigmas') ?? undefined,
    steps: num(p, 'steps', true),
    guidance: num(p, 'guidance', false),
    threshold: p.get('threshold') ?? undefined,
    classLabel: cls === null || cls === '' ? undefined : cls === 'all' ? 'all' : num(p, 'class', true),
    seed: num(p, 'seed', true),
    n: num(p, 'n', true),
    eta: num(p, 'eta', false),
    train,
    batch: num(p, 'batch', true),
    lr: num(p, 'lr', false),
    previewEvery: num(p, 'previewEvery', true),
    threads,
    autostart: p.get('autostart') !== null ? p.get('autostart') !== '0' : train === undefined,
  };
}
