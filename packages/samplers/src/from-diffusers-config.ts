import { fromDiffusersConfig as readScheduleConfig, type NoiseSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import { clip } from './clip.js';
import { ddim } from './ddim.js';
import { ddpm } from './ddpm.js';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { dynamicThreshold } from './dynamic-threshold.js';
import { euler } from './euler.js';
import { eulerAncestral } from './euler-ancestral.js';
import { heun } from './heun.js';
import type { Sampler, X0Processor } from './types.js';

export const SUPPORTED_DIFFUSERS_SCHEDULERS = [
  'DDPMScheduler',
  'DDIMScheduler',
  'EulerDiscreteScheduler',
  'EulerAncestralDiscreteScheduler',
  'HeunDiscreteScheduler',
  'DPMSolverMultistepScheduler',
] as const;

export interface FromDiffusersConfigResult {
  sampler: Sampler;
  schedule: NoiseSchedule;
  prediction: Prediction;
  className: (typeof SUPPORTED_DIFFUSERS_SCHEDULERS)[number];
}

/** Pipeline arguments that are not part of a scheduler config. */
export interface FromDiffusersConfigOverrides {
  /** DDIM's η (a `step` argument in diffusers). Default 0. */
  eta?: number;
}

/**
 * A sampler, schedule and prediction type configured as a diffusers
 * `scheduler_config.json` describes them (the schedule part is read by the
 * schedules package). Options this package does not implement throw an error
 * naming the key and value rather than being silently ignored.
 */
export function fromDiffusersConfig(
  json: string | Record<string, unknown>,
  overrides: FromDiffusersConfigOverrides = {},
): FromDiffusersConfigResult {
  const { schedule, className, options: o, scheduleConfig } = readScheduleConfig(json);
  const raw = (typeof json === 'string' ? JSON.parse(json) : json) as Record<string, unknown>;
  if (!className || !(SUPPORTED_DIFFUSERS_SCHEDULERS as readonly string[]).includes(className)) {
    throw new Error(`_class_name must be one of ${SUPPORTED_DIFFUSERS_SCHEDULERS.join(', ')}; got ${JSON.stringify(className)}`);
  }
  const cls = className as FromDiffusersConfigResult['className'];
  const unsupported = (key: string, value: unknown, why = 'is not supported'): never => {
    throw new Error(`${className}: ${key} = ${JSON.stringify(value)} ${why}`);
  };
  const set = (key: string) => raw[key] !== undefined && raw[key] !== null;
  for (const key of ['use_exponential_sigmas', 'use_beta_sigmas', 'use_lu_lambdas', 'use_flow_sigmas', 'use_dynamic_shifting']) {
    if (raw[key] === true) unsupported(key, true);
  }
  const spacing = { timestepSpacing: o.timestepSpacing, stepsOffset: o.stepsOffset };
  const threshold: X0Processor | undefined = o.thresholding
    ? dynamicThreshold({ dynamicThresholdingRatio: o.dynamicThresholdingRatio, sampleMaxValue: o.sampleMaxValue })
    : undefined;
  const clipOrThreshold = threshold ?? (o.clipSample ? clip(o.clipSampleRange) : undefined);

  let sampler: Sampler;
  switch (cls) {
    case 'DDPMScheduler':
      if (o.varianceType !== 'fixed_small' && o.varianceType !== 'fixed_large') {
        unsupported('variance_type', o.varianceType, "is not supported (use 'fixed_small' or 'fixed_large')");
      }
      sampler = ddpm({ ...spacing, varianceType: o.varianceType as 'fixed_small' | 'fixed_large', x0Processor: clipOrThreshold });
      break;
    case 'DDIMScheduler':
      sampler = ddim({ ...spacing, eta: overrides.eta ?? 0, setAlphaToOne: o.setAlphaToOne, x0Processor: clipOrThreshold });
      break;
    case 'EulerDiscreteScheduler':
    case 'EulerAncestralDiscreteScheduler':
    case 'HeunDiscreteScheduler': {
      if (o.timestepType !== 'discrete') unsupported('timestep_type', o.timestepType);
      if (o.interpolationType !== 'linear') unsupported('interpolation_type', o.interpolationType);
      for (const key of ['sigma_min', 'sigma_max']) if (set(key)) unsupported(key, raw[key]);
      const common = { ...spacing, useKarrasSigmas: o.useKarrasSigmas };
      if (cls === 'HeunDiscreteScheduler') {
        sampler = heun({ ...common, clipSample: o.clipSample, clipSampleRange: o.clipSampleRange });
      } else if (cls === 'EulerDiscreteScheduler') {
        sampler = euler({ ...common, finalSigmasType: o.finalSigmasType });
      } else {
        sampler = eulerAncestral(common);
      }
      break;
    }
    case 'DPMSolverMultistepScheduler': {
      if (o.algorithmType !== 'dpmsolver++' && o.algorithmType !== 'deis') {
        unsupported('algorithm_type', o.algorithmType, "is not supported (only 'dpmsolver++')");
      }
      if (o.solverOrder !== 1 && o.solverOrder !== 2) unsupported('solver_order', o.solverOrder, 'is not supported (1 or 2)');
      if (o.varianceType === 'learned' || o.varianceType === 'learned_range') unsupported('variance_type', o.varianceType);
      if (set('lambda_min_clipped') && raw.lambda_min_clipped !== -Infinity) unsupported('lambda_min_clipped', raw.lambda_min_clipped);
      const solverType = raw.solver_type ?? 'midpoint';
      // diffusers reads the other solvers' names as 'midpoint'.
      const known = ['midpoint', 'heun', 'logrho', 'bh1', 'bh2'];
      if (typeof solverType !== 'string' || !known.includes(solverType)) unsupported('solver_type', solverType);
      if (set('euler_at_final') && typeof raw.euler_at_final !== 'boolean') unsupported('euler_at_final', raw.euler_at_final);
      sampler = dpmSolverPlusPlus2M({
        ...spacing,
        solverOrder: o.solverOrder as 1 | 2,
        solverType: solverType === 'heun' ? 'heun' : 'midpoint',
        lowerOrderFinal: o.lowerOrderFinal,
        eulerAtFinal: raw.euler_at_final === true,
        useKarrasSigmas: o.useKarrasSigmas,
        finalSigmasType: o.finalSigmasType,
        roundKarrasTimesteps: scheduleConfig.betaSchedule !== 'squaredcos_cap_v2',
        x0Processor: threshold,
      });
      break;
    }
  }
  return { sampler, schedule, prediction: o.predictionType, className: cls };
}
