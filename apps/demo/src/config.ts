import { readFileSync } from 'node:fs';
import { BETA_SCHEDULES, PREDICTIONS } from '@tfjs-diffusion/schedules';
import { DATASETS, SAMPLERS, THRESHOLDS, presetConfig, type DemoConfig } from './presets.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else replaces. */
export function deepMerge<T>(target: T, source: unknown): T {
  if (!isObject(source)) return target;
  const out: Json = { ...(target as Json) };
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k], v) : structuredClone(v);
  }
  return out as T;
}

/** Sets `value` at a dotted path ('regularizers.ema') of a plain object. */
export function setPath(obj: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let o: Json = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isObject(o[k])) o[k] = {};
    o = o[k] as Json;
  }
  o[keys[keys.length - 1]!] = value;
}

export function readConfigFile(path: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`--config ${path}: cannot read a JSON object (${(e as Error).message})`);
  }
  if (!isObject(parsed)) throw new Error(`--config ${path}: must hold a JSON object`);
  return parsed;
}

function oneOf(name: string, v: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(v as string)) throw new Error(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got '${String(v)}'`);
}

function positiveInt(name: string, v: unknown, min = 1): void {
  if (!Number.isInteger(v) || (v as number) < min) throw new Error(`${name} must be an integer >= ${min}; got ${String(v)}`);
}

function inRange(name: string, v: unknown, lo: number, hi: number): void {
  if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new Error(`${name} must be a number in [${lo}, ${hi}]; got ${String(v)}`);
}

/** Checks every field and names the one that is wrong and what it accepts. */
export function validateConfig(c: DemoConfig): DemoConfig {
  oneOf('dataset', c.dataset, DATASETS);
  oneOf('prediction', c.prediction, PREDICTIONS);
  oneOf('schedule.betaSchedule', c.schedule.betaSchedule, BETA_SCHEDULES);
  oneOf('sampler.name', c.sampler.name, SAMPLERS);
  oneOf('sampler.threshold', c.sampler.threshold, THRESHOLDS);
  oneOf('model.preset', c.model.preset, ['mnist-tiny', 'mnist-ref']);
  oneOf('lrSchedule', c.lrSchedule, ['constant', 'cosine']);
  positiveInt('steps', c.steps);
  positiveInt('batchSize', c.batchSize);
  positiveInt('trainSize', c.trainSize, 0);
  positiveInt('valSize', c.valSize);
  positiveInt('warmupSteps', c.warmupSteps, 0);
  positiveInt('schedule.numTrainTimesteps', c.schedule.numTrainTimesteps, 2);
  positiveInt('sampler.steps', c.sampler.steps);
  positiveInt('sampler.cols', c.sampler.cols);
  positiveInt('threads', c.threads);
  positiveInt('augmentShift', c.augmentShift, 0);
  for (const k of ['log', 'validate', 'sample', 'checkpoint'] as const) positiveInt(`every.${k}`, c.every[k]);
  inRange('lr', c.lr, 1e-8, 1);
  inRange('regularizers.ema', c.regularizers.ema, 0, 1);
  inRange('regularizers.dropout', c.regularizers.dropout, 0, 0.99);
  inRange('regularizers.pUncond', c.regularizers.pUncond, 0, 1);
  inRange('regularizers.weightDecay', c.regularizers.weightDecay, 0, 10);
  for (const k of ['clipGradNorm', 'minSnrGamma', 'offsetNoise', 'inputPerturbation'] as const) {
    inRange(`regularizers.${k}`, c.regularizers[k], 0, 1e6);
  }
  inRange('sampler.guidance', c.sampler.guidance, 0, 100);
  inRange('sampler.guidanceRescale', c.sampler.guidanceRescale, 0, 1);
  inRange('sampler.eta', c.sampler.eta, 0, 1);
  if (!Number.isInteger(c.seed)) throw new Error(`seed must be an integer; got ${String(c.seed)}`);
  return c;
}

/**
 * The config of a run: the preset, then a JSON config file, then flags
 * (`overrides`, dotted paths such as 'regularizers.ema'), each overriding the last.
 */
export function resolveConfig(opts: { preset?: string; configFile?: string; overrides?: Record<string, unknown>; base?: DemoConfig }): DemoConfig {
  const file = opts.configFile ? readConfigFile(opts.configFile) : {};
  const presetName = opts.preset ?? (typeof file.preset === 'string' ? file.preset : 'mnist-tiny');
  let c = opts.base ? structuredClone(opts.base) : presetConfig(presetName);
  c = deepMerge(c, file);
  c.preset = opts.base?.preset ?? presetName;
  const flags: Json = {};
  for (const [path, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) setPath(flags, path, v);
  c = deepMerge(c, flags);
  return validateConfig(c);
}
