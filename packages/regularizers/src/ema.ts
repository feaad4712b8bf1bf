import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import type { NamedParameter, TensorData } from './types.js';

export interface EmaOptions {
  /** Upper bound of the decay (diffusers' `decay`). Default 0.9999. */
  decay?: number;
  /** Warm-up 1 − (1 + step/invGamma)^(−power) instead of (1 + step)/(10 + step) (diffusers' `use_ema_warmup`). Default false. */
  useEmaWarmup?: boolean;
  invGamma?: number;
  power?: number;
  minDecay?: number;
  /** Cap of the decay; defaults to `decay`. */
  maxDecay?: number;
  /** Average only on steps that are a multiple of this. Default 1. */
  updateEvery?: number;
  /** Steps before averaging starts (diffusers' `update_after_step`): the average copies the weights until then. */
  updateAfterStep?: number;
}

export const EMA_OPTION_KEYS = optionKeys<EmaOptions>()([
  'decay', 'useEmaWarmup', 'invGamma', 'power', 'minDecay', 'maxDecay', 'updateEvery', 'updateAfterStep',
]);

export interface EmaState {
  step: number;
  decay: number;
  shadow: Record<string, TensorData>;
}

export interface Ema {
  /** The decay diffusers' EMAModel.get_decay gives at optimisation step `step` (1 after the first update). */
  getDecay(step: number): number;
  /** Folds the current weights into the average after optimisation step `step`; returns the decay used (0 = copied). */
  update(step: number): number;
  /** Puts the averaged weights into the model's variables (the training weights are kept aside). */
  swapIn(): void;
  /** Restores the training weights after `swapIn`. */
  swapOut(): void;
  /** Runs `fn` with the averaged weights in place, restoring the training weights afterwards (also on error). */
  withAveraged<T>(fn: () => T): T;
  withAveraged<T>(fn: () => Promise<T>): Promise<T>;
  /** The averaged values by parameter name (owned by the EMA; do not dispose). */
  readonly shadow: ReadonlyMap<string, tf.Variable>;
  /** Last optimisation step passed to `update`, and the decay used then. */
  readonly step: number;
  readonly currentDecay: number;
  state(): EmaState;
  loadState(state: EmaState): void;
  dispose(): void;
}

function checkRange(name: string, v: number, lo: number, hi: number): void {
  if (!(v >= lo && v <= hi)) throw new RangeError(`createEma: ${name} must be in [${lo}, ${hi}], got ${v}`);
}

/**
 * Exponential moving average of the weights, as diffusers' `EMAModel`:
 * shadow ← shadow − (1 − d)(shadow − θ) with d from `getDecay`.
 * The warm-up form is @crowsonkb's: d = 1 − (1 + s/invGamma)^(−power).
 */
export function createEma(parameters: readonly NamedParameter[], opts: EmaOptions = {}): Ema {
  checkOptions('createEma', opts, EMA_OPTION_KEYS);
  const decay = opts.decay ?? 0.9999;
  const useWarmup = opts.useEmaWarmup ?? false;
  const invGamma = opts.invGamma ?? 1;
  const power = opts.power ?? 2 / 3;
  const minDecay = opts.minDecay ?? 0;
  const maxDecay = opts.maxDecay ?? decay;
  const updateEvery = opts.updateEvery ?? 1;
  const startStep = opts.updateAfterStep ?? 0;
  checkRange('decay', decay, 0, 1);
  checkRange('minDecay', minDecay, 0, 1);
  checkRange('maxDecay', maxDecay, 0, 1);
  if (!(invGamma > 0)) throw new RangeError(`createEma: invGamma must be > 0, got ${invGamma}`);
  if (!(power > 0)) throw new RangeError(`createEma: power must be > 0, got ${power}`);
  if (!Number.isInteger(updateEvery) || updateEvery < 1) {
    throw new RangeError(`createEma: updateEvery must be a positive integer, got ${updateEvery}`);
  }
  if (!Number.isInteger(startStep) || startStep < 0) {
    throw new RangeError(`createEma: updateAfterStep must be a non-negative integer, got ${startStep}`);
  }

  const params = new Map<string, tf.Variable>();
  const shadow = new Map<string, tf.Variable>();
  for (const p of parameters) {
    if (params.has(p.name)) throw new Error(`createEma: duplicate parameter name '${p.name}'`);
    params.set(p.name, p.variable);
    shadow.set(p.name, tf.variable(p.variable, false, undefined, 'float32'));
  }
  let backup: Map<string, tf.Tensor> | null = null;
  let step = 0;
  let currentDecay = 0;

  const getDecay = (optimizationStep: number): number => {
    const s = Math.max(0, optimizationStep - startStep - 1);
    if (s <= 0) return 0;
    const d = useWarmup ? 1 - (1 + s / invGamma) ** -power : (1 + s) / (10 + s);
    return Math.max(Math.min(d, maxDecay), minDecay);
  };

  const swapIn = (): void => {
    if (backup) throw new Error('Ema.swapIn: the averaged weights are already swapped in');
    backup = new Map();
    for (const [name, v] of params) {
      backup.set(name, tf.clone(v));
      v.assign(shadow.get(name)!);
    }
  };
  const swapOut = (): void => {
    if (!backup) throw new Error('Ema.swapOut: swapIn was not called');
    for (const [name, v] of params) {
      const b = backup.get(name)!;
      v.assign(b);
      b.dispose();
    }
    backup = null;
  };
  function withAveraged<T>(fn: () => Promise<T>): Promise<T>;
  function withAveraged<T>(fn: () => T): T;
  function withAveraged<T>(fn: () => T | Promise<T>): T | Promise<T> {
    swapIn();
    let out: T | Promise<T>;
    try {
      out = fn();
    } catch (e) {
      swapOut();
      throw e;
    }
    if (out instanceof Promise) return out.finally(swapOut);
    swapOut();
    return out;
  }

  const ema: Ema = {
    getDecay,
    update(optimizationStep: number): number {
      if (backup) throw new Error('Ema.update: call swapOut before updating the average');
      step = optimizationStep;
      if (optimizationStep % updateEvery !== 0) return currentDecay;
      const d = getDecay(optimizationStep);
      currentDecay = d;
      tf.tidy(() => {
        const oneMinus = tf.scalar(1 - d);
        for (const [name, s] of shadow) {
          const p = params.get(name)!;
          s.assign(d === 0 ? p : tf.sub(s, tf.mul(oneMinus, tf.sub(s, p))));
        }
      });
      return d;
    },
    swapIn,
    swapOut,
    withAveraged,
    shadow,
    get step() {
      return step;
    },
    get currentDecay() {
      return currentDecay;
    },
    state(): EmaState {
      const out: Record<string, TensorData> = {};
      for (const [name, s] of shadow) out[name] = { shape: s.shape.slice(), data: s.dataSync() as Float32Array };
      return { step, decay: currentDecay, shadow: out };
    },
    loadState(state: EmaState): void {
      for (const name of shadow.keys()) {
        if (!(name in state.shadow)) throw new Error(`Ema.loadState: the state has no average for parameter '${name}'`);
      }
      for (const [name, t] of Object.entries(state.shadow)) {
        const s = shadow.get(name);
        if (!s) throw new Error(`Ema.loadState: the state has an average for '${name}', which is not a parameter here`);
        if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
          throw new Error(`Ema.loadState: '${name}' has shape [${t.shape}] in the state, [${s.shape}] here`);
        }
      }
      for (const [name, t] of Object.entries(state.shadow)) {
        tf.tidy(() => shadow.get(name)!.assign(tf.tensor(t.data, t.shape, 'float32')));
      }
      step = state.step;
      currentDecay = state.decay;
    },
    dispose(): void {
      if (backup) swapOut();
      for (const s of shadow.values()) s.dispose();
      shadow.clear();
    },
  };
  return ema;
}
