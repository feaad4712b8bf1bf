/**
 * The training recipe the page reads from a demo run config (the shipped
 * mnist-tiny's): checked field by field before the trainer sees it, the model
 * section by the models package's own config checker.
 */
import { resolveUNetConfig, uncheckedOptions, type UNetConfig, type UNetOptions } from '@tfjs-diffusion/models';
import { makeSchedule, showValue, type NoiseSchedule, type ScheduleConfig } from '@tfjs-diffusion/schedules';

export interface Regularizers {
  ema: number;
  weightDecay: number;
  clipGradNorm: number;
  pUncond: number;
  dropout: number;
}

/** A run config's recipe, checked. */
export interface Recipe {
  /** The config as read, written back (with this run's values) into the trained model folder. */
  json: Record<string, unknown>;
  /** Its `demo` section as read. */
  demo: Record<string, unknown>;
  scheduleConfig: ScheduleConfig;
  schedule: NoiseSchedule;
  lrSchedule: 'constant' | 'cosine';
  warmupSteps: number;
  regularizers: Regularizers;
  /** The model section, resolved (every field checked) by the models package. */
  model: UNetConfig;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function section(o: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  const v = o[key];
  if (!isObj(v)) throw new Error(`${where}: "${key}" must be an object; got ${showValue(v)}`);
  return v;
}

function num(o: Record<string, unknown>, key: string, where: string, ok: (v: number) => boolean, what: string, fallback?: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`${where}: ${key} must be ${what}; got ${showValue(v)}`);
  return v;
}

/** Checks a demo run config's recipe (`demo`: schedule, learning rate plan, regularizers; `model`: a U-Net) and names the field that is wrong. */
export function readRecipe(json: Record<string, unknown>, where = 'config.json'): Recipe {
  if (!isObj(json)) throw new Error(`${where}: must be a JSON object with "demo" and "model"; got ${showValue(json)}`);
  const demo = section(json, 'demo', where);
  const modelJson = section(json, 'model', where);
  if (modelJson.kind !== 'unet') throw new Error(`${where}: the page trains a U-Net; model kind is ${showValue(modelJson.kind)}`);
  let model: UNetConfig;
  try {
    model = resolveUNetConfig(uncheckedOptions<UNetOptions>(modelJson));
  } catch (e) {
    throw new Error(`${where} (under "model"): ${(e as Error).message}`);
  }
  const scheduleConfig = uncheckedOptions<ScheduleConfig>(section(demo, 'schedule', `${where} (under "demo")`));
  let schedule: NoiseSchedule;
  try {
    schedule = makeSchedule(scheduleConfig);
  } catch (e) {
    throw new Error(`${where} (under "demo.schedule"): ${(e as Error).message}`);
  }
  const d = `${where} (under "demo")`;
  const lrSchedule = demo.lrSchedule;
  if (lrSchedule !== 'constant' && lrSchedule !== 'cosine') throw new Error(`${d}: lrSchedule must be 'constant' or 'cosine'; got ${showValue(lrSchedule)}`);
  const warmupSteps = num(demo, 'warmupSteps', d, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer', 0);
  const r = section(demo, 'regularizers', d);
  const rw = `${where} (under "demo.regularizers")`;
  const unit = (v: number) => v >= 0 && v < 1;
  const regularizers: Regularizers = {
    ema: num(r, 'ema', rw, unit, 'in [0, 1) (0: no EMA)', 0),
    weightDecay: num(r, 'weightDecay', rw, (v) => v >= 0, 'a non-negative number', 0),
    clipGradNorm: num(r, 'clipGradNorm', rw, (v) => v >= 0, 'a non-negative number (0: no clipping)', 0),
    pUncond: num(r, 'pUncond', rw, unit, 'in [0, 1)', 0),
    dropout: num(r, 'dropout', rw, unit, 'in [0, 1)', 0),
  };
  return { json, demo, scheduleConfig, schedule, lrSchedule, warmupSteps, regularizers, model };
}
