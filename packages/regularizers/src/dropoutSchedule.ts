import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';

export type DropoutScheduleConfig =
  | { kind: 'constant'; rate: number }
  /** From `from` at step 0 to `to` at `steps`, constant after. */
  | { kind: 'linear'; from: number; to: number; steps: number }
  /** `rates[i]` from `boundaries[i-1]` (0 for i = 0) up to `boundaries[i]`; needs rates.length = boundaries.length + 1. */
  | { kind: 'step'; rates: number[]; boundaries: number[] };

type Of<K> = Extract<DropoutScheduleConfig, { kind: K }>;
const KEYS = {
  constant: optionKeys<Of<'constant'>>()(['kind', 'rate']),
  linear: optionKeys<Of<'linear'>>()(['kind', 'from', 'to', 'steps']),
  step: optionKeys<Of<'step'>>()(['kind', 'rates', 'boundaries']),
};

function checkRate(r: number): void {
  if (!(r >= 0 && r < 1)) throw new RangeError(`dropoutSchedule: rates must be in [0, 1), got ${r}`);
}

/** A dropout rate as a function of the training step. */
export function dropoutSchedule(config: DropoutScheduleConfig | number): (step: number) => number {
  if (typeof config === 'number') config = { kind: 'constant', rate: config };
  const kind = (config as { kind?: unknown } | undefined)?.kind;
  if (kind === 'constant' || kind === 'linear' || kind === 'step') checkOptions(`dropoutSchedule (kind '${kind}')`, config, KEYS[kind]);
  switch (config.kind) {
    case 'constant': {
      const { rate } = config;
      checkRate(rate);
      return () => rate;
    }
    case 'linear': {
      const { from, to, steps } = config;
      checkRate(from);
      checkRate(to);
      if (!(steps > 0)) throw new RangeError(`dropoutSchedule: steps must be > 0, got ${steps}`);
      return (step) => from + (to - from) * Math.min(1, Math.max(0, step / steps));
    }
    case 'step': {
      const { rates, boundaries } = config;
      rates.forEach(checkRate);
      if (rates.length !== boundaries.length + 1) {
        throw new RangeError(`dropoutSchedule: rates must have boundaries.length + 1 = ${boundaries.length + 1} entries, got ${rates.length}`);
      }
      for (let i = 1; i < boundaries.length; i++) {
        if (!(boundaries[i] > boundaries[i - 1])) throw new RangeError('dropoutSchedule: boundaries must be increasing');
      }
      return (step) => {
        let i = 0;
        while (i < boundaries.length && step >= boundaries[i]) i++;
        return rates[i];
      };
    }
    default:
      throw new RangeError(`dropoutSchedule: kind must be one of 'constant', 'linear', 'step'; got '${(config as { kind: string }).kind}'`);
  }
}
