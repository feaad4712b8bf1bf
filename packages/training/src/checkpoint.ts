// A training checkpoint as data: its typed state, the tensor key scheme of
// checkpoint.safetensors, and (de)serialization to bytes. No file I/O here
// (that is `@tfjs-diffusion/training/node`), so this runs in a browser too.
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '@tfjs-diffusion/models';
import type { TensorData } from '@tfjs-diffusion/regularizers';
import { checkPrediction, type Prediction, type RngState } from '@tfjs-diffusion/schedules';
import type { LearningRateConfig } from './lrSchedule.js';

export const CHECKPOINT_VERSION = 1;

/** Tensors by parameter name. */
export type TensorMap = Record<string, TensorData>;

/** state.json of a checkpoint: everything but the tensors. */
export interface CheckpointState {
  version: typeof CHECKPOINT_VERSION;
  /** Steps taken (the next step is `step + 1`). */
  step: number;
  optimizerStep: number;
  rng: RngState;
  /** The batch source's `getState()`, or null. */
  data: unknown;
  guard: { skipped: number; consecutive: number };
  /** The EMA's step and last decay; null when the run has no EMA. */
  ema: { step: number; decay: number } | null;
  config: {
    prediction: Prediction;
    numTrainTimesteps: number;
    seed: number;
    learningRate: LearningRateConfig;
    /** Names of the trained parameters (the others were frozen). */
    trainable: string[];
    /** The denoiser's config (the models package's, with `kind`), or null. */
    model: Record<string, unknown> | null;
  };
}

/** A whole checkpoint: the state and the tensors, by role. */
export interface Checkpoint {
  state: CheckpointState;
  /** Every parameter's raw (trained) weights. */
  model: TensorMap;
  /** The EMA of the trainable parameters; null without EMA. */
  ema: TensorMap | null;
  /** AdamW's moments of the trainable parameters. */
  adam: { m: TensorMap; v: TensorMap };
}

/** The bytes of a checkpoint folder's two files. */
export interface CheckpointFiles {
  /** checkpoint.safetensors */
  weights: Uint8Array;
  /** state.json */
  state: string;
}

export const CHECKPOINT_WEIGHTS = 'checkpoint.safetensors';
export const CHECKPOINT_STATE = 'state.json';

// The key scheme of checkpoint.safetensors: one prefix per role. Longest first,
// so 'adam.m.' is not read as a parameter named 'm.…' of some other role.
const PREFIX = { m: 'adam.m.', v: 'adam.v.', ema: 'ema.', model: 'model.' } as const;

/** The flat safetensors entries of a checkpoint (keys `model.*`, `ema.*`, `adam.m.*`, `adam.v.*`). */
export function checkpointTensors(ck: Checkpoint): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  const put = (prefix: string, map: TensorMap) => {
    for (const [name, t] of Object.entries(map)) out[prefix + name] = t;
  };
  put(PREFIX.model, ck.model);
  if (ck.ema) put(PREFIX.ema, ck.ema);
  put(PREFIX.m, ck.adam.m);
  put(PREFIX.v, ck.adam.v);
  return out;
}

/** Splits flat safetensors entries by role; an unknown key or a non-F32 tensor is an error naming it. */
export function splitCheckpointTensors(
  tensors: Record<string, { dtype?: string; shape: number[]; data: unknown }>,
  where: string,
  hasEma: boolean,
): Pick<Checkpoint, 'model' | 'ema' | 'adam'> {
  const model: TensorMap = {};
  const ema: TensorMap = {};
  const m: TensorMap = {};
  const v: TensorMap = {};
  const roles: [string, TensorMap][] = [[PREFIX.m, m], [PREFIX.v, v], [PREFIX.ema, ema], [PREFIX.model, model]];
  for (const [key, t] of Object.entries(tensors)) {
    if (t.dtype !== undefined && t.dtype !== 'F32') throw new Error(`checkpoint ${where}: tensor '${key}' has dtype ${t.dtype}, expected F32`);
    if (!(t.data instanceof Float32Array)) throw new Error(`checkpoint ${where}: tensor '${key}' is not float32 data`);
    const role = roles.find(([p]) => key.startsWith(p));
    if (!role) throw new Error(`checkpoint ${where}: tensor '${key}' has none of the prefixes ${Object.values(PREFIX).join(', ')}`);
    role[1][key.slice(role[0].length)] = { shape: t.shape, data: t.data };
  }
  if (!hasEma && Object.keys(ema).length > 0) throw new Error(`checkpoint ${where}: holds EMA tensors but state.json says the run has no EMA`);
  return { model, ema: hasEma ? ema : null, adam: { m, v } };
}

function fail(where: string, field: string, want: string, got: unknown): never {
  throw new Error(`checkpoint ${where}: state.json field '${field}' must be ${want}; got ${JSON.stringify(got)}`);
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;

/** Checks parsed state.json field by field; the error names the field and what it must be. */
export function parseCheckpointState(raw: unknown, where: string): CheckpointState {
  assertCheckpointState(raw, where);
  return raw;
}

function assertCheckpointState(raw: unknown, where: string): asserts raw is CheckpointState {
  if (!isObject(raw)) fail(where, '(root)', 'an object', raw);
  if (raw.version !== CHECKPOINT_VERSION) fail(where, 'version', String(CHECKPOINT_VERSION), raw.version);
  if (!isCount(raw.step)) fail(where, 'step', 'a non-negative integer', raw.step);
  if (!isCount(raw.optimizerStep)) fail(where, 'optimizerStep', 'a non-negative integer', raw.optimizerStep);
  const rng = raw.rng;
  if (!isObject(rng) || !Array.isArray(rng.s) || rng.s.length !== 4 || !rng.s.every((x) => Number.isInteger(x)) || !(rng.spare === null || typeof rng.spare === 'number')) {
    fail(where, 'rng', '{ s: [4 integers], spare: number | null }', rng);
  }
  const guard = raw.guard;
  if (!isObject(guard) || !isCount(guard.skipped) || !isCount(guard.consecutive)) fail(where, 'guard', '{ skipped, consecutive } (non-negative integers)', guard);
  const ema = raw.ema;
  if (ema !== null && (!isObject(ema) || !isCount(ema.step) || typeof ema.decay !== 'number')) fail(where, 'ema', 'null or { step, decay }', ema);
  const c = raw.config;
  if (!isObject(c)) fail(where, 'config', 'an object', c);
  try {
    checkPrediction(c.prediction as Prediction);
  } catch {
    fail(where, 'config.prediction', "'epsilon', 'v', 'sample' or 'flow'", c.prediction);
  }
  if (!(Number.isInteger(c.numTrainTimesteps) && (c.numTrainTimesteps as number) > 0)) fail(where, 'config.numTrainTimesteps', 'a positive integer', c.numTrainTimesteps);
  if (!Number.isInteger(c.seed)) fail(where, 'config.seed', 'an integer', c.seed);
  // Checkpoints written before the rename say 'lr'.
  if (c.learningRate === undefined && c.lr !== undefined) {
    c.learningRate = c.lr;
    delete c.lr;
  }
  if (!isObject(c.learningRate) || typeof c.learningRate.peak !== 'number') fail(where, 'config.learningRate', '{ peak, ... }', c.learningRate);
  if (!Array.isArray(c.trainable) || !c.trainable.every((n) => typeof n === 'string')) fail(where, 'config.trainable', 'a list of parameter names', c.trainable);
  if (c.model !== null && !isObject(c.model)) fail(where, 'config.model', 'null or a model config object', c.model);
}

/** The first tensor holding NaN or ±Inf, as 'role name', or undefined when all are finite. */
export function firstNonFinite(ck: Pick<Checkpoint, 'model' | 'ema' | 'adam'>): string | undefined {
  const roles: [string, TensorMap | null][] = [['parameter', ck.model], ['EMA of', ck.ema], ['Adam m of', ck.adam.m], ['Adam v of', ck.adam.v]];
  for (const [role, map] of roles) {
    if (!map) continue;
    for (const [name, t] of Object.entries(map)) {
      const d = t.data;
      for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return `${role} '${name}'`;
    }
  }
  return undefined;
}

/** Throws unless every tensor is finite: a checkpoint is never written from a diverged state. */
export function assertFiniteCheckpoint(ck: Checkpoint, where = `at step ${ck.state.step}`): void {
  const bad = firstNonFinite(ck);
  if (bad) throw new Error(`checkpoint ${where}: ${bad} holds NaN or Inf; a non-finite state is never saved (lower the learning rate or enable gradient clipping)`);
}

/** The two files of a checkpoint folder as bytes. */
export function encodeCheckpoint(ck: Checkpoint): CheckpointFiles {
  const entries: Record<string, SafetensorsTensor> = {};
  for (const [k, t] of Object.entries(checkpointTensors(ck))) entries[k] = { dtype: 'F32', shape: t.shape, data: t.data };
  const weights = encodeSafetensors(entries, { format: 'tfjs-diffusion-checkpoint', step: String(ck.state.step) });
  return { weights, state: JSON.stringify(ck.state, null, 1) };
}

/** Parses a checkpoint folder's two files; `where` names them in errors. */
export function decodeCheckpoint(files: CheckpointFiles, where = 'data'): Checkpoint {
  let raw: unknown;
  try {
    raw = JSON.parse(files.state);
  } catch (e) {
    throw new Error(`checkpoint ${where}: ${CHECKPOINT_STATE} is not valid JSON (${(e as Error).message})`);
  }
  const state = parseCheckpointState(raw, where);
  let decoded;
  try {
    decoded = decodeSafetensors(files.weights, `${where}/${CHECKPOINT_WEIGHTS}`);
  } catch (e) {
    throw new Error(`checkpoint ${where}: cannot read ${CHECKPOINT_WEIGHTS}: ${(e as Error).message}`);
  }
  return { state, ...splitCheckpointTensors(decoded.tensors, where, state.ema !== null) };
}
