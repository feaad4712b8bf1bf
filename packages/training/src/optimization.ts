// The optimizer, the EMA and the non-finite guard of a trainer, built from resolved options.
import {
  createAdamW,
  createEma,
  createNonFiniteGuard,
  type AdamW,
  type Ema,
  type NamedParameter,
  type NonFiniteGuard,
} from '@tfjs-diffusion/regularizers';
import { DEFAULT_NO_DECAY, type ResolvedOptions, type TrainerOptions } from './options.js';

export interface Optimization {
  optimizer: AdamW;
  /** Averages only the trainable parameters (frozen ones never move). */
  ema: Ema | undefined;
  guard: NonFiniteGuard;
  dispose(): void;
}

export function createOptimization(trainable: readonly NamedParameter[], o: ResolvedOptions, optimizer: TrainerOptions['optimizer'] = {}): Optimization {
  const { reg } = o;
  const guard = createNonFiniteGuard({ maxConsecutiveNonFinite: reg.maxConsecutiveNonFinite ?? 5 });
  const adam = createAdamW(trainable, {
    ...optimizer,
    learningRate: o.learningRate.peak,
    weightDecay: reg.weightDecay ?? 0.01,
    decayMode: reg.decayMode ?? 'decoupled',
    noDecay: reg.noDecay ?? DEFAULT_NO_DECAY,
  });
  let ema: Ema | undefined;
  try {
    ema = reg.ema ? createEma(trainable, reg.ema === true ? {} : reg.ema) : undefined;
  } catch (e) {
    adam.dispose();
    throw e;
  }
  return {
    optimizer: adam,
    ema,
    guard,
    dispose() {
      adam.dispose();
      ema?.dispose();
    },
  };
}
