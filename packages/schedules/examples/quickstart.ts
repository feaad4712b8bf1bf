// The README example. Run: npx tsx --conditions=source packages/schedules/examples/quickstart.ts
import {
  karrasSigmas,
  makeSchedule,
  scheduleFromDiffusersConfig,
  sigmaAt,
  sigmaToTimestep,
  sigmas,
  timesteps,
} from '@tfjs-diffusion/schedules';

const schedule = makeSchedule({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });
console.log(schedule.alphasCumprod[999]); // 0.0046601...

// The 50 DDIM steps Stable Diffusion uses (timestep_spacing 'leading', steps_offset 1)
console.log(timesteps(schedule, 50, { timestepSpacing: 'leading', stepsOffset: 1 }).slice(0, 4)); // [ 981, 961, 941, 921 ]
console.log(timesteps(schedule, 50, { timestepSpacing: 'trailing' }).slice(-2)); // [ 39, 19 ]

// Karras sigmas between the schedule's extremes, and the fractional timesteps to feed the model
const sig = sigmas(schedule);
const ks = karrasSigmas(10, sig[0]!, sig[999]!);
console.log(Array.from(ks, (s) => sigmaToTimestep(schedule, s).toFixed(2)).join(' ')); // 999.00 916.28 815.04 ... 6.73 0.00
console.log(sigmaAt(schedule, sigmaToTimestep(schedule, 3)).toFixed(12)); // 3.000000000000

// A diffusers scheduler_config.json, as is
// (its schedule part; @tfjs-diffusion/samplers' fromDiffusersConfig reads the sampler part)
const { schedule: s2, scheduleConfig } = scheduleFromDiffusersConfig({
  _class_name: 'DDIMScheduler',
  _diffusers_version: '0.25.0',
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  beta_end: 0.012,
  prediction_type: 'v_prediction',
  timestep_spacing: 'trailing',
  rescale_betas_zero_snr: true,
});
console.log(scheduleConfig.betaSchedule, s2.alphasCumprod[999]); // scaled_linear 0
