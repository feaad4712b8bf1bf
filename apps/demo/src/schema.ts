import { z } from 'zod';
import { nearestName } from '@tfjs-diffusion/models';
import { BETA_SCHEDULES, PREDICTIONS } from '@tfjs-diffusion/schedules';
import { describeSetting, SETTING_RANGES, type SettingName, type SettingRange } from '@tfjs-diffusion/training';
import { samplerOptions } from './samplerOptions.js';
import { DATASETS, SAMPLERS, SIGMA_PLANS, THRESHOLDS, type DemoConfig } from './presets.js';

// Each field says what it accepts; the formatter adds the field's path and the value it got.
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const error = max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer in [${min}, ${max}]`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const range = (lo: number, hi: number) => {
  const error = `must be a number in [${lo}, ${hi}]`;
  return z.number({ error }).min(lo, { error }).max(hi, { error });
};
/** A field whose range is in the one table of setting ranges (the flags' and the page's). */
const setting = (name: SettingName) => {
  const r: SettingRange = SETTING_RANGES[name];
  const error = `must be ${describeSetting(name)}`;
  const n = z.number({ error }).min(r.min, { error }).max(r.max, { error });
  return r.integer ? n.int({ error }) : n;
};
const oneOf = <T extends string>(values: readonly T[]) =>
  z.enum(values as [T, ...T[]], { error: `must be one of ${values.map((v) => `'${v}'`).join(', ')}` });
const bool = z.boolean({ error: 'must be true or false (a JSON boolean, not a string)' });

/** The demo's config (`config.json` → `demo`, and `--config` files) as a strict schema: unknown keys are errors. */
export const demoConfigSchema = z.strictObject({
  preset: z.string({ error: 'must be a preset name (a string)' }),
  dataset: oneOf(DATASETS),
  dataDir: z.string({ error: 'must be a folder path (a string)' }).min(1, { error: 'must be a folder path (a string)' }).optional(),
  resolution: int(16, 128).optional(),
  centerCrop: bool.optional(),
  randomFlip: bool.optional(),
  trainSize: int(0),
  valSize: int(1, 1_000_000),
  model: z.strictObject({
    preset: oneOf(['mnist-tiny', 'mnist-ref'] as const),
    overrides: z.record(z.string(), z.unknown(), { error: 'must be an object of U-Net options, e.g. {"blockOutChannels": [8, 16]}' }),
  }, { error: 'must be an object' }),
  classConditional: bool,
  prediction: oneOf(PREDICTIONS),
  schedule: z.strictObject({
    numTrainTimesteps: setting('numTrainTimesteps'),
    betaSchedule: oneOf(BETA_SCHEDULES),
    betaStart: range(0, 1),
    betaEnd: range(0, 1),
    rescaleBetasZeroSnr: bool,
  }, { error: 'must be an object' }),
  steps: setting('trainSteps'),
  batchSize: setting('batchSize'),
  lr: setting('learningRate'),
  lrSchedule: oneOf(['constant', 'cosine'] as const),
  warmupSteps: int(0),
  regularizers: z.strictObject({
    ema: range(0, 1),
    dropout: range(0, 0.99),
    weightDecay: range(0, 10),
    clipGradNorm: range(0, 1e6),
    minSnrGamma: range(0, 1e6),
    offsetNoise: range(0, 1e6),
    inputPerturbation: range(0, 1e6),
    pUncond: range(0, 1),
  }, { error: 'must be an object' }),
  augmentShift: int(0, 64),
  every: z.strictObject({ log: int(1), validate: int(1), sample: int(1), checkpoint: int(1) }, { error: 'must be an object' }),
  sampler: z.strictObject({
    name: oneOf(SAMPLERS),
    steps: setting('sampleSteps'),
    guidance: setting('guidance'),
    guidanceRescale: setting('guidanceRescale'),
    threshold: oneOf(THRESHOLDS),
    eta: setting('eta'),
    sigmas: oneOf(SIGMA_PLANS).optional(),
    // Large values are refused by the size check, with the estimate.
    cols: setting('images'),
  }, { error: 'must be an object' }),
  seed: setting('seed'),
  threads: setting('threads'),
}, { error: 'must be a JSON object' });

// The schema and the DemoConfig interface must describe the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same: Same<z.infer<typeof demoConfigSchema>, DemoConfig> = true;
void same;

/** An object schema's fields; undefined for any other schema. */
const shapeOf = (s: z.ZodType | undefined): Record<string, z.ZodType> | undefined => (s instanceof z.ZodObject ? s.shape : undefined);

function schemaAt(path: PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType = demoConfigSchema;
  for (const k of path) {
    const shape = shapeOf(s);
    if (!shape || typeof k !== 'string' || !(k in shape)) return undefined;
    s = shape[k]!;
  }
  return s;
}

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** One line per problem: the field's path, what it accepts, what it got; unknown keys with the nearest known name. */
export function formatIssues(issues: z.core.$ZodIssue[], prefix: (path: string) => string): string[] {
  return issues.map((i) => {
    const at = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      const known = Object.keys(shapeOf(schemaAt(i.path)) ?? {});
      return i.keys.map((k) => {
        const full = at ? `${at}.${k}` : k;
        const near = nearestName(k, known);
        return `${prefix(full)}unknown field '${full}'${near ? `; did you mean '${at ? `${at}.` : ''}${near}'?` : ''} (known here: ${known.join(', ')})`;
      }).join('\n');
    }
    return `${prefix(at)}${at || 'the config'} ${i.message}; got ${show(i.input)}`;
  });
}

/** Validates a whole config; `prefix(path)` says where a field came from (a file, a flag, a run's config.json). */
export function checkDemoConfig(c: unknown, prefix: (path: string) => string): DemoConfig {
  const r = demoConfigSchema.safeParse(c, { reportInput: true });
  if (!r.success) throw new Error(formatIssues(r.error.issues, prefix).join('\n'));
  const d = c as DemoConfig;
  try {
    samplerOptions(d.sampler.name, { sigmas: d.sampler.sigmas });
  } catch (e) {
    throw new Error(`${prefix('sampler.sigmas')}${(e as Error).message}`);
  }
  return d;
}

/**
 * Checks the keys of a partial config (a `--config` file) before it is merged: unknown keys
 * (also `__proto__`) are refused with the nearest known name; values are checked after the merge.
 */
export function checkPartialKeys(o: Record<string, unknown>, prefix: (path: string) => string, path: string[] = []): void {
  const shape = shapeOf(schemaAt(path));
  if (!shape) return;
  const unknown = Object.keys(o).filter((k) => !Object.prototype.hasOwnProperty.call(shape, k));
  if (unknown.length) {
    throw new Error(formatIssues([{ code: 'unrecognized_keys', keys: unknown, path, message: '', input: o } as z.core.$ZodIssue], prefix).join('\n'));
  }
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(path.length === 1 && path[0] === 'model' && k === 'overrides')) {
      checkPartialKeys(v as Record<string, unknown>, prefix, [...path, k]);
    }
  }
}
