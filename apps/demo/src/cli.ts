#!/usr/bin/env -S node --conditions=source --import tsx
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option, type OptionValues } from 'commander';
import { distillCommand } from './commands/distill.js';
import { evalCommand } from './commands/eval.js';
import { EXPORT_FORMATS, exportCommand } from './commands/export.js';
import { fineTuneCommand } from './commands/fineTune.js';
import { sampleCommand } from './commands/sample.js';
import { trainCommand } from './commands/train.js';
import { PRESETS, SAMPLERS, SIGMA_PLANS, THRESHOLDS, presetConfig } from './presets.js';
import { samplersWithPlan } from './samplerOptions.js';
import { addTrainFlags, classList, flagOverrides, int, setting } from './trainFlags.js';
import { exitCodeOf, onStop, stopName } from './interrupt.js';
import { addLoraTrainFlags, runLoraOf, sampleLoraOption } from './lora.js';

/** The options, with `runDefaults` (defaults that stand for "the run's value") dropped unless given. */
function cliOnly(cmd: Command, runDefaults: string[]): OptionValues {
  const o = { ...cmd.opts() };
  for (const k of runDefaults) if (cmd.getOptionValueSource(k) !== 'cli') delete o[k];
  return o;
}

/** sample and eval hold no state to save: a stop signal ends them at once (their files are renamed into place, none is half-written). */
async function exitOnStop<T>(run: () => Promise<T>): Promise<T> {
  const stop = onStop((sig) => {
    process.stderr.write(`\n${stopName(sig)}: stopped; no output is half-written\n`);
    process.exit(exitCodeOf(sig));
  });
  try {
    return await run();
  } finally {
    stop.release();
  }
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export function createProgram(): Command {
  const program = new Command('tfjs-diffusion')
    .description('Train, sample, evaluate and fine-tune diffusion models on MNIST, Fashion-MNIST, emoji or a folder of your images with TensorFlow.js')
    .showHelpAfterError();

  addTrainFlags(
    program.command('train')
      .description(`train a model; presets: ${Object.keys(PRESETS).join(', ')}`)
      .addOption(new Option('--preset <name>', 'starting configuration').choices(Object.keys(PRESETS)).default('mnist-tiny'))
      .option('--config <file.json>', 'JSON config (DemoConfig fields) over the preset; flags override it', '')
      .option('--out <dir>', 'run folder', 'runs/<preset>-<timestamp>')
      .option('--resume <run>', 'continue the run in this folder from its last checkpoint', '')
      .option('--max-steps <n>', 'stop after this many steps in this call (0 = run to --steps)', int('--max-steps'), 0),
  ).action(async function (this: Command) {
    const o = this.opts();
    const res = await trainCommand({
      // A resume names a preset only when one is given (to refuse another than the run's).
      preset: o.resume && this.getOptionValueSource('preset') !== 'cli' ? undefined : o.preset, config: o.config || undefined, out: o.out === 'runs/<preset>-<timestamp>' ? undefined : o.out,
      resume: o.resume || undefined, overrides: flagOverrides(this), maxSteps: o.maxSteps || undefined,
    });
    // Saved and stopped by a signal: the shell's convention, 128 + its number (130 for Ctrl-C).
    if (res.signal) process.exitCode = exitCodeOf(res.signal);
  });

  const tiny = presetConfig('mnist-tiny').sampler;
  const runs = (v: string | number) => `the run's; mnist-tiny: ${v}`;
  program.command('sample')
    .description('sample a PNG grid from a checkpoint')
    .requiredOption('--checkpoint <path>', 'run folder, its checkpoints/ folder, one checkpoints/ckpt-* folder, or a diffusers UNet2DModel folder')
    .addOption(new Option('--sampler <name>', 'sampler').choices(SAMPLERS as string[]).default(tiny.name, runs(tiny.name)))
    .addOption(new Option('--steps <n>', 'sampler steps').argParser(setting('sampleSteps', '--steps')).default(tiny.steps, runs(tiny.steps)))
    .addOption(new Option('--guidance <scale>', 'classifier-free guidance scale (1 = none)').argParser(setting('guidance', '--guidance')).default(tiny.guidance, runs(tiny.guidance)))
    .addOption(new Option('--guidance-rescale <x>', 'guidance rescale in [0, 1]').argParser(setting('guidanceRescale', '--guidance-rescale')).default(tiny.guidanceRescale, runs(tiny.guidanceRescale)))
    .addOption(new Option('--threshold <kind>', 'x0 processing').choices(THRESHOLDS as string[]).default(tiny.threshold, runs(tiny.threshold)))
    .addOption(new Option('--eta <x>', 'DDIM eta').argParser(setting('eta', '--eta')).default(tiny.eta, runs(tiny.eta)))
    .addOption(new Option('--sigmas <plan>', `σ plan: karras (${samplersWithPlan('karras').join(', ')}) or exponential (${samplersWithPlan('exponential').join(', ')})`)
      .choices(SIGMA_PLANS as string[]).default(tiny.sigmas, runs(tiny.sigmas ?? 'default')))
    .option('--seed <n>', 'seed of the initial noise', setting('seed', '--seed'), 0)
    .addOption(new Option('--class <list>', "comma-separated classes, one row each: indices or the run's class names").argParser(classList).default([], 'every class'))
    .addOption(new Option('--n <n>', 'images per row (per class)').argParser(setting('images', '--n')).default(tiny.cols, `the run's grid columns; mnist-tiny: ${tiny.cols}`))
    .option('--out <dir>', 'output folder', '<run>/sampled')
    .option('--each', 'also write every image as its own PNG', false)
    .option('--no-ema', 'use the raw weights instead of the EMA average (default: EMA weights when the checkpoint has them)')
    .addOption(new Option('--threads <n>', 'threads that sample (worker threads on wasm)').argParser(setting('threads', '--threads')).default(undefined, "the run's, at most the cores here"))
    .addOption(sampleLoraOption())
    .action(async function (this: Command) {
      const o = cliOnly(this, ['sampler', 'steps', 'guidance', 'guidanceRescale', 'threshold', 'eta', 'sigmas', 'class', 'n']);
      await exitOnStop(() => sampleCommand({
        checkpoint: o.checkpoint, sampler: o.sampler, steps: o.steps, guidance: o.guidance, guidanceRescale: o.guidanceRescale,
        threshold: o.threshold, eta: o.eta, sigmas: o.sigmas, seed: o.seed, classes: o.class, n: o.n,
        out: o.out === '<run>/sampled' ? undefined : o.out, each: o.each, noEma: o.ema === false, threads: o.threads, lora: o.lora,
      }));
    });

  program.command('eval')
    .description('memorization rate, nearest-neighbour grid, classifier accuracy and Fréchet distance of samples (report.md + PNGs)')
    .requiredOption('--checkpoint <path>', 'run folder, its checkpoints/ folder, one checkpoints/ckpt-* folder, or a diffusers UNet2DModel folder')
    .option('--n <n>', 'samples per class (or in total if unconditional)', setting('images', '--n'), 20)
    .addOption(new Option('--sampler <name>', 'sampler').choices(SAMPLERS as string[]).default(tiny.name, runs(tiny.name)))
    .addOption(new Option('--steps <n>', 'sampler steps').argParser(setting('sampleSteps', '--steps')).default(tiny.steps, runs(tiny.steps)))
    .addOption(new Option('--guidance <scale>', 'guidance scale').argParser(setting('guidance', '--guidance')).default(tiny.guidance, runs(tiny.guidance)))
    .addOption(new Option('--threshold <kind>', 'x0 processing').choices(THRESHOLDS as string[]).default(tiny.threshold, runs(tiny.threshold)))
    .option('--seed <n>', 'seed of the samples', setting('seed', '--seed'), 1)
    .option('--classifier-epochs <n>', 'epochs of the feature classifier (cached)', int('--classifier-epochs'), 4)
    .option('--classifier-train-size <n>', 'training images of the classifier (0 = all)', int('--classifier-train-size'), 0)
    .option('--out <dir>', 'report folder', '<run>/eval')
    .addOption(new Option('--threads <n>', 'threads that sample (worker threads on wasm)').argParser(setting('threads', '--threads')).default(undefined, "the run's, at most the cores here"))
    .action(async function (this: Command) {
      const o = cliOnly(this, ['sampler', 'steps', 'guidance', 'threshold']);
      await exitOnStop(() => evalCommand({
        checkpoint: o.checkpoint, n: o.n, sampler: o.sampler, steps: o.steps, guidance: o.guidance, threshold: o.threshold, seed: o.seed,
        classifierEpochs: o.classifierEpochs, classifierTrainSize: o.classifierTrainSize, out: o.out === '<run>/eval' ? undefined : o.out, threads: o.threads,
      }));
    });

  addLoraTrainFlags(addTrainFlags(
    program.command('fine-tune')
      .description('start from a checkpoint on another dataset, freezing parameters by name pattern, with a new learning rate')
      .requiredOption('--checkpoint <path>', 'run folder, checkpoint or diffusers UNet2DModel folder to start from')
      .option('--freeze <patterns>', "comma-separated parameter name patterns to keep fixed, ours or diffusers', e.g. 'down.*,mid.*' or 'down_blocks.*'", '')
      .option('--config <file.json>', 'JSON config over the source run\'s settings', '')
      .option('--out <dir>', 'run folder', 'runs/<preset>-ft-<dataset>-<timestamp>')
      .option('--max-steps <n>', 'stop after this many steps in this call (0 = run to --steps)', int('--max-steps'), 0),
  )).action(async function (this: Command) {
    const o = this.opts();
    const res = await fineTuneCommand({
      checkpoint: o.checkpoint, freeze: list(o.freeze), config: o.config || undefined, lora: runLoraOf(o),
      out: o.out.startsWith('runs/<preset>') ? undefined : o.out, overrides: flagOverrides(this), maxSteps: o.maxSteps || undefined,
    });
    if (res.signal) process.exitCode = exitCodeOf(res.signal);
  });
  program.command('distill')
    .description('progressive distillation: students of teacher-steps/2, /4, … DDIM steps, one run folder per halving, and a table of accuracy and Fréchet distance beside the teacher')
    .requiredOption('--checkpoint <path>', 'the teacher: run folder, its checkpoints/ folder or one checkpoints/ckpt-* folder')
    .requiredOption('--halvings <k>', 'rounds; the last student takes teacher-steps / 2^k steps', int('--halvings'))
    .option('--teacher-steps <n>', "the first teacher's DDIM steps", setting('sampleSteps', '--teacher-steps'), 64)
    .option('--steps-per-halving <n>', 'optimisation steps per halving', setting('trainSteps', '--steps-per-halving'), 2000)
    .addOption(new Option('--guidance <scale>', "teacher's classifier-free guidance (default: the run's)").argParser(setting('guidance', '--guidance')).default(undefined, "the run's"))
    .addOption(new Option('--batch-size <n>', "images per step (default: the run's)").argParser(setting('batchSize', '--batch-size')).default(undefined, "the run's"))
    .addOption(new Option('--lr <x>', "peak learning rate, cosine to 0 per halving (default: the run's / 4)").argParser(setting('learningRate', '--lr')).default(undefined, "the run's / 4"))
    .option('--eval-n <n>', 'evaluation samples per class (0 = no table)', (v: string) => (v.trim() === '0' ? 0 : setting('images', '--eval-n (0 = no table)')(v)), 20)
    .option('--classifier-epochs <n>', 'epochs of the evaluation classifier (cached)', int('--classifier-epochs'), 4)
    .option('--classifier-train-size <n>', 'training images of the evaluation classifier (0 = all)', int('--classifier-train-size'), 0)
    .addOption(new Option('--max-steps <n>', 'stop after this many steps in this call; the same command continues').argParser(int('--max-steps')).default(undefined, 'run to the end'))
    .requiredOption('--out <dir>', 'folder of the halving run folders and the table (an existing one is continued)')
    .action(async function (this: Command) {
      const o = this.opts();
      const res = await distillCommand({
        checkpoint: o.checkpoint, halvings: o.halvings, teacherSteps: o.teacherSteps, stepsPerHalving: o.stepsPerHalving, guidance: o.guidance,
        batchSize: o.batchSize, lr: o.lr, evalN: o.evalN, maxSteps: o.maxSteps, out: o.out,
        classifierEpochs: o.classifierEpochs, classifierTrainSize: o.classifierTrainSize,
      });
      if (res.signal) process.exitCode = exitCodeOf(res.signal);
    });
  program.command('export')
    .description("write a run's model in another library's format (diffusers: UNet2DModel.from_pretrained loads it)")
    .requiredOption('--checkpoint <path>', 'run folder, its checkpoints/ folder or one checkpoints/ckpt-* folder')
    .addOption(new Option('--format <name>', 'output format').choices(EXPORT_FORMATS).default('diffusers'))
    .requiredOption('--out <dir>', 'output folder (must be empty or new)')
    .option('--force', 'overwrite the files in a non-empty --out', false)
    .option('--no-ema', 'export the raw weights instead of the EMA average (default: EMA weights when the checkpoint has them)')
    .action(async function (this: Command) {
      const o = this.opts();
      await exportCommand({ checkpoint: o.checkpoint, format: o.format, out: o.out, force: o.force, noEma: o.ema === false });
    });
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  // `pnpm run cli -- <command>` hands the `--` on; commander would read every flag after it as an operand.
  const args = argv[2] === '--' ? [...argv.slice(0, 2), ...argv.slice(3)] : argv;
  // pnpm runs the `cli`/`demo` scripts in apps/demo; paths are meant from where the command was typed.
  const typedIn = process.env.INIT_CWD;
  if (typedIn && ['cli', 'demo'].includes(process.env.npm_lifecycle_event ?? '') && typedIn !== process.cwd()) process.chdir(typedIn);
  try {
    await createProgram().parseAsync(args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

const isMain = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (isMain) await main();
