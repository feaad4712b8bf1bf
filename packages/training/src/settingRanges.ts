// The ranges of the settings a user types: the demo's flags and config fields and the
// playground's URL parameters and form read this one table, so a value refused in one
// is refused in the others, with the same words.
import { MAX_SEED, MAX_TRAIN_TIMESTEPS } from '@tfjs-diffusion/schedules';

export interface SettingRange {
  /** Whole numbers only. */
  integer: boolean;
  min: number;
  max: number;
}

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER): SettingRange => ({ integer: true, min, max });
const real = (min: number, max: number): SettingRange => ({ integer: false, min, max });

/** Every typed setting's range, by the name the demo's config gives it. */
export const SETTING_RANGES = Object.freeze({
  /** Sampler steps. */
  sampleSteps: int(1, 10_000),
  /** Classifier-free guidance scale (1 = none; 0 = the unconditional prediction). */
  guidance: real(0, 100),
  guidanceRescale: real(0, 1),
  /** DDIM's η (0 deterministic, 1 DDPM-like). */
  eta: real(0, 1),
  seed: int(0, MAX_SEED),
  /** Images asked for (per class, per grid row); the size check bounds what fits. */
  images: int(1, 10_000_000),
  /** Training steps. */
  trainSteps: int(1),
  batchSize: int(1, 65_536),
  learningRate: real(1e-8, 1),
  numTrainTimesteps: int(2, MAX_TRAIN_TIMESTEPS),
  threads: int(1, 64),
  /** Steps between previews or sample grids while training (0: none). */
  previewEvery: int(0),
} satisfies Record<string, SettingRange>);

export type SettingName = keyof typeof SETTING_RANGES;

/** What a setting accepts, as a message says it: "an integer in [1, 10000]", "a number in [0, 1]". */
export function describeSetting(name: SettingName): string {
  const r: SettingRange = SETTING_RANGES[name];
  if (r.integer) return r.max === Number.MAX_SAFE_INTEGER ? `an integer >= ${r.min}` : `an integer in [${r.min}, ${r.max}]`;
  return `a number in [${r.min}, ${r.max}]`;
}

function inRange(r: SettingRange, v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && (!r.integer || Number.isInteger(v)) && v >= r.min && v <= r.max;
}

const quoted = (text: string) => `'${text.length > 40 ? `${text.slice(0, 37)}...` : text}'`;

/** `value` when it is in the setting's range; else a RangeError "`label` must be …; got …" (`label`: `--eta`, `URL parameter eta`). */
export function checkSetting(name: SettingName, value: unknown, label: string): number {
  if (inRange(SETTING_RANGES[name], value)) return value;
  const got = typeof value === 'string' ? quoted(value) : typeof value === 'number' ? String(value) : typeof value;
  throw new RangeError(`${label} must be ${describeSetting(name)}; got ${got}`);
}

/** A setting typed as text (a flag, a URL parameter): a number in range, or an error quoting the text. */
export function parseSetting(name: SettingName, text: string, label: string): number {
  const v = text.trim() === '' ? NaN : Number(text);
  if (inRange(SETTING_RANGES[name], v)) return v;
  throw new RangeError(`${label} must be ${describeSetting(name)}; got ${quoted(text)}`);
}
