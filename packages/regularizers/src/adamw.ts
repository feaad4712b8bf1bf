import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { ADAMW_KERNEL, hasFusedAdamW, type AdamWKernelAttrs } from './adamwKernel.js';
import { matchesAny, type NamePattern } from './pattern.js';
import type { NamedParameter, TensorData } from './types.js';

export interface ParameterGroup {
  /** Parameters whose name matches any of these patterns join the group (first matching group wins). */
  match: NamePattern[];
  weightDecay?: number;
  /** Multiplies the learning rate for this group. Default 1. */
  learningRateScale?: number;
}

export interface AdamWOptions {
  /** Default 1e-3 (torch.optim.AdamW's `lr`). */
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
  /**
   * 'decoupled' (AdamW, Loshchilov & Hutter): θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + ε).
   * 'l2': λθ is added to the gradient before the moments, as torch.optim.Adam(weight_decay=λ).
   */
  decayMode?: 'decoupled' | 'l2';
  /** Names that get no weight decay (norms, biases, embeddings). */
  noDecay?: NamePattern[];
  groups?: ParameterGroup[];
}

export const ADAMW_OPTION_KEYS = optionKeys<AdamWOptions>()([
  'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'decayMode', 'noDecay', 'groups',
]);
const GROUP_KEYS = optionKeys<ParameterGroup>()(['match', 'weightDecay', 'learningRateScale']);

export interface AdamWState {
  step: number;
  m: Record<string, TensorData>;
  v: Record<string, TensorData>;
}

export interface AdamW {
  /** Learning rate used when `apply` gets none. */
  learningRate: number;
  readonly step: number;
  /** Parameter names and the weight decay each one gets. */
  readonly decayOf: ReadonlyMap<string, number>;
  /** One update from gradients by parameter name (gradients are not disposed). Missing names are left alone. */
  apply(grads: Record<string, tf.Tensor>, learningRate?: number): void;
  state(): AdamWState;
  loadState(state: AdamWState): void;
  readonly moments: ReadonlyMap<string, { m: tf.Variable; v: tf.Variable }>;
  dispose(): void;
}

/**
 * Adam with decoupled weight decay over named variables, with its state (m, v,
 * step) in the open so checkpoints can save it. Follows torch.optim.AdamW's
 * bias correction: step size lr/(1−β1^t), denominator √v/√(1−β2^t) + ε.
 */
export function createAdamW(parameters: readonly NamedParameter[], opts: AdamWOptions = {}): AdamW {
  checkOptions('createAdamW', opts, ADAMW_OPTION_KEYS);
  opts.groups?.forEach((g, i) => checkOptions('createAdamW', g, GROUP_KEYS, `groups[${i}]`));
  const beta1 = opts.beta1 ?? 0.9;
  const beta2 = opts.beta2 ?? 0.999;
  const epsilon = opts.epsilon ?? 1e-8;
  const weightDecay = opts.weightDecay ?? 0.01;
  const decayMode = opts.decayMode ?? 'decoupled';
  const noDecay = opts.noDecay ?? [];
  const groups = opts.groups ?? [];
  if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`createAdamW: beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`createAdamW: beta2 must be in [0, 1), got ${beta2}`);
  const lr0 = opts.learningRate ?? 1e-3;
  if (!(Number.isFinite(lr0) && lr0 >= 0)) throw new RangeError(`createAdamW: learningRate must be a finite number >= 0, got ${lr0}`);
  if (!(epsilon > 0)) throw new RangeError(`createAdamW: epsilon must be > 0, got ${epsilon}`);
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) throw new RangeError(`createAdamW: weightDecay must be a finite number >= 0, got ${weightDecay}`);
  if (decayMode !== 'decoupled' && decayMode !== 'l2') {
    throw new RangeError(`createAdamW: decayMode must be one of 'decoupled', 'l2'; got '${decayMode}'`);
  }

  interface Slot { variable: tf.Variable; m: tf.Variable; v: tf.Variable; decay: number; learningRateScale: number }
  const slots = new Map<string, Slot>();
  const decayOf = new Map<string, number>();
  for (const p of parameters) {
    if (slots.has(p.name)) throw new Error(`createAdamW: duplicate parameter name '${p.name}'`);
    const group = groups.find((g) => matchesAny(p.name, g.match));
    const decay = matchesAny(p.name, noDecay) ? 0 : group?.weightDecay ?? weightDecay;
    // tf.variable keeps its own handle on the data: the zeros it starts from are disposed here.
    const zeros = (): tf.Variable => {
      const z = tf.zerosLike(p.variable);
      const v = tf.variable(z, false);
      z.dispose();
      return v;
    };
    slots.set(p.name, {
      variable: p.variable,
      m: zeros(),
      v: zeros(),
      decay,
      learningRateScale: group?.learningRateScale ?? 1,
    });
    decayOf.set(p.name, decay);
  }
  let step = 0;

  /** The same update as one ADAMW_KERNEL call over every tensor with a gradient. */
  const applyFused = (grads: Record<string, tf.Tensor>, lr: number, bc1: number, bc2: number): void => {
    const live = [...slots].filter(([name]) => grads[name] !== undefined);
    if (live.length === 0) return;
    const inputs: tf.NamedTensorMap = {};
    const stepSize: number[] = [];
    const keep: number[] = [];
    const l2: number[] = [];
    const attrs = { count: live.length, beta1, beta2, epsilon, invSqrtBc2: 1 / Math.sqrt(bc2), stepSize, keep, l2 } satisfies AdamWKernelAttrs;
    live.forEach(([name, slot], i) => {
      const glr = lr * slot.learningRateScale;
      inputs[`p${i}`] = slot.variable;
      inputs[`m${i}`] = slot.m;
      inputs[`v${i}`] = slot.v;
      inputs[`g${i}`] = grads[name]!;
      attrs.stepSize.push(glr / bc1);
      attrs.keep.push(decayMode === 'decoupled' && slot.decay > 0 ? 1 - glr * slot.decay : 1);
      attrs.l2.push(decayMode === 'l2' && slot.decay > 0 ? slot.decay : 0);
    });
    tf.tidy(() => {
      const out = tf.engine().runKernel(ADAMW_KERNEL, inputs, attrs) as tf.Tensor[];
      const k = live.length;
      live.forEach(([, slot], i) => {
        slot.variable.assign(out[i]!);
        slot.m.assign(out[k + i]!);
        slot.v.assign(out[2 * k + i]!);
      });
    });
  };

  const opt: AdamW = {
    learningRate: lr0,
    get step() {
      return step;
    },
    decayOf,
    apply(grads: Record<string, tf.Tensor>, learningRate?: number): void {
      const lr = learningRate ?? opt.learningRate;
      if (!(Number.isFinite(lr) && lr >= 0)) throw new RangeError(`AdamW.apply: learningRate must be a finite number >= 0, got ${lr}`);
      for (const name of Object.keys(grads)) {
        const slot = slots.get(name);
        if (!slot) throw new Error(`AdamW.apply: gradient for '${name}', which is not a parameter of this optimizer`);
        const gs = grads[name]!.shape;
        const ps = slot.variable.shape;
        if (gs.length !== ps.length || gs.some((d, i) => d !== ps[i])) {
          throw new Error(`AdamW.apply: the gradient of '${name}' has shape [${gs.join(', ')}]; the parameter has [${ps.join(', ')}]`);
        }
      }
      step += 1;
      const bc1 = 1 - beta1 ** step;
      const bc2 = 1 - beta2 ** step;
      if (hasFusedAdamW()) {
        applyFused(grads, lr, bc1, bc2);
        return;
      }
      tf.tidy(() => {
        const b1 = tf.scalar(beta1), c1 = tf.scalar(1 - beta1);
        const b2 = tf.scalar(beta2), c2 = tf.scalar(1 - beta2);
        const invSqrtBc2 = tf.scalar(1 / Math.sqrt(bc2));
        const eps = tf.scalar(epsilon);
        const scalars = new Map<string, { stepSize: tf.Scalar; keep: tf.Scalar | null; l2: tf.Scalar | null }>();
        for (const [name, slot] of slots) {
          const g0 = grads[name];
          if (!g0) continue;
          const key = `${slot.decay}/${slot.learningRateScale}`;
          let s = scalars.get(key);
          if (!s) {
            const glr = lr * slot.learningRateScale;
            s = {
              stepSize: tf.scalar(glr / bc1),
              keep: decayMode === 'decoupled' && slot.decay > 0 ? tf.scalar(1 - glr * slot.decay) : null,
              l2: decayMode === 'l2' && slot.decay > 0 ? tf.scalar(slot.decay) : null,
            };
            scalars.set(key, s);
          }
          const theta = slot.variable;
          const g = s.l2 ? tf.add(g0, tf.mul(s.l2, theta)) : g0;
          const m = tf.add(tf.mul(b1, slot.m), tf.mul(c1, g));
          const v = tf.add(tf.mul(b2, slot.v), tf.mul(c2, tf.square(g)));
          const update = tf.div(tf.mul(s.stepSize, m), tf.add(tf.mul(tf.sqrt(v), invSqrtBc2), eps));
          slot.m.assign(m);
          slot.v.assign(v);
          theta.assign(tf.sub(s.keep ? tf.mul(theta, s.keep) : theta, update));
        }
      });
    },
    state(): AdamWState {
      const m: Record<string, TensorData> = {};
      const v: Record<string, TensorData> = {};
      for (const [name, s] of slots) {
        m[name] = { shape: s.m.shape.slice(), data: s.m.dataSync() as Float32Array };
        v[name] = { shape: s.v.shape.slice(), data: s.v.dataSync() as Float32Array };
      }
      return { step, m, v };
    },
    loadState(state: AdamWState): void {
      if (!Number.isInteger(state.step) || state.step < 0) {
        throw new Error(`AdamW.loadState: step must be a non-negative integer, got ${state.step}`);
      }
      for (const [name, s] of slots) {
        for (const [kind, rec] of [['m', state.m], ['v', state.v]] as const) {
          const t = rec[name];
          if (!t) throw new Error(`AdamW.loadState: the state has no '${kind}' moment for parameter '${name}'`);
          const shape = s.variable.shape;
          if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
            throw new Error(`AdamW.loadState: '${kind}' of '${name}' has shape [${t.shape}] in the state, [${shape}] here`);
          }
        }
      }
      for (const name of Object.keys(state.m)) {
        if (!slots.has(name)) throw new Error(`AdamW.loadState: the state has moments for '${name}', which is not a parameter here`);
      }
      for (const [name, s] of slots) {
        tf.tidy(() => {
          s.m.assign(tf.tensor(state.m[name].data, state.m[name].shape, 'float32'));
          s.v.assign(tf.tensor(state.v[name].data, state.v[name].shape, 'float32'));
        });
      }
      step = state.step;
    },
    get moments() {
      const out = new Map<string, { m: tf.Variable; v: tf.Variable }>();
      for (const [name, s] of slots) out.set(name, { m: s.m, v: s.v });
      return out;
    },
    dispose(): void {
      for (const s of slots.values()) {
        s.m.dispose();
        s.v.dispose();
      }
      slots.clear();
    },
  };
  return opt;
}
