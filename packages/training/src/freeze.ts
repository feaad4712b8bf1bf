// Which parameters train, and the weights a fine-tune starts from.
import { loadWeights } from '@tfjs-diffusion/models';
import { matchesAny, type NamedParameter, type NamePattern } from '@tfjs-diffusion/regularizers';
import type { TensorMap } from './checkpoint.js';

/** Splits parameters into trained and frozen: frozen when the variable is not trainable or its name matches `freeze`. */
export function partitionParameters(all: readonly NamedParameter[], freeze: readonly NamePattern[]): { trainable: NamedParameter[]; frozen: NamedParameter[] } {
  const isFrozen = (p: NamedParameter) => !p.variable.trainable || matchesAny(p.name, freeze);
  const trainable = all.filter((p) => !isFrozen(p));
  if (trainable.length === 0) throw new Error('createTrainer: every parameter is frozen; check freeze patterns');
  return { trainable, frozen: all.filter(isFrozen) };
}

/**
 * Copies `weights` into the parameters matching `include` (default all),
 * through the models package's strict loader: each chosen parameter must be
 * present with its shape. Returns the names loaded.
 */
export function loadFineTuneWeights(
  params: readonly NamedParameter[],
  weights: TensorMap,
  include?: readonly NamePattern[],
  source = 'fineTune.weights',
): string[] {
  const chosen = include ? params.filter((p) => matchesAny(p.name, include)) : params.slice();
  if (include && chosen.length === 0) throw new Error(`fineTune: include patterns ${JSON.stringify(include.map(String))} match no parameter`);
  const names = new Set(chosen.map((p) => p.name));
  // Only the chosen names: the rest of the file is neither loaded nor an error when `include` narrows it.
  const subset = include ? Object.fromEntries(Object.entries(weights).filter(([n]) => names.has(n))) : weights;
  return loadWeights({ parameters: () => chosen }, subset, { source });
}
