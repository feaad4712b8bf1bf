// The README's diffusers-config example. Run: npx tsx --conditions=source packages/samplers/examples/diffusers-config.ts
import { fromDiffusersConfig } from '@tfjs-diffusion/samplers';

// Stable Diffusion 1.5's scheduler/scheduler_config.json, verbatim.
const json = `{
  "_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0",
  "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
  "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true,
  "steps_offset": 1, "trained_betas": null, "clip_sample": false
}`;
const sd = fromDiffusersConfig(json);
console.log(sd.className, sd.sampler.name, sd.prediction, sd.sampler.timesteps(sd.schedule, 50).slice(0, 4));
// PNDMScheduler pndm epsilon [ 981, 961, 961, 941 ]
console.log(sd.ignoredKeys); // [ 'clip_sample' ]  (not a PNDMScheduler argument: diffusers ignores it too)

const fast = fromDiffusersConfig(json, { as: 'UniPCMultistepScheduler' });
console.log(fast.sampler.name, fast.sampler.timesteps(fast.schedule, 5)); // unipc [ 999, 799, 599, 400, 200 ]
