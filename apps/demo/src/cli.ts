#!/usr/bin/env -S node --conditions=source --import tsx
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option, type OptionValues } from 'commander';
import { distillCommand } from './commands/distill.js';
import { evalCommand } from './commands/eval.js';
import { EXPORT_FORMATS, exportCommand } from './commands/export.js';
import { fineTuneCommand } from './commands/fineTune.js';
import { sampleCommand } from './commands/sample.js';
import { trainCommand } from './commands/train.js';
import { BETA_SCHEDULES, checkNesting, PREDICTIONS, showValue } from '@tfjs-diffusion/schedules';
import { DATASETS, PRESETS, SAMPLERS, SIGMA_PLANS, THRESHOLDS, presetConfig } from './presets.js';
import { samplersWithPlan } from './samplerOptions.js';
import { flagNames } from './config.js';
import { exitCodeOf, onStop, stopName } from './interrupt.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer; got '${v}'`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number; got '${v}'`);
  return n;
};
const bool = (v: string) => {
  if (!['true', 'false'].includes(v)) throw new InvalidArgumentError(`must be true or false; got '${v}'`);
  return v === 'true';
};
const json = (v: string) => {
  let o: unknown;
  try {
    o = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError(`must be a JSON object; got ${showValue(v)}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InvalidArgumentError(`must be a JSON object; got ${showValue(v)}`);
  try {
    checkNesting(o, 'the JSON');
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return o as Record<string, unknown>;
};

interface FlagSpec {
  flags: string;
  path: string;
  help: string;
  parse?: (v: string) => unknown;
  choices?: readonly string[];
}

// Flags that override the preset / config file, by config path.
const TRAIN_FLAGS: FlagSpec[] = [
  { flags: '--dataset <name>', path: 'dataset', help: 'dataset (folder: --data-dir)', choices: DATASETS },
  { flags: '--data-dir <folder>', path: 'dataDir', help: 'train on a folder of images (class subfolders: class-conditional); sets --dataset folder', parse: (v) => resolve(v) },
  { flags: '--resolution <n>', path: 'resolution', help: 'image size: folders 16..128 (default 64), emoji 32 or 64', parse: int('--resolution') },
  { flags: '--center-crop', path: 'centerCrop', help: "crop a folder's resized images at the centre (default: a seeded random crop)" },
  { flags: '--random-flip', path: 'randomFlip', help: 'mirror training images left-right half the time' },
  { flags: '--steps <n>', path: 'steps', help: 'total optimisation steps of the run', parse: int('--steps') },
  { flags: '--batch-size <n>', path: 'batchSize', help: 'images per step', parse: int('--batch-size') },
  { flags: '--train-size <n>', path: 'trainSize', help: 'training images used (0 = all)', parse: int('--train-size') },
  { flags: '--val-size <n>', path: 'valSize', help: 'held-out validation images', parse: int('--val-size') },
  { flags: '--model <preset>', path: 'model.preset', help: 'U-Net preset of the models package', choices: ['mnist-tiny', 'mnist-ref'] },
  { flags: '--model-overrides <json>', path: 'model.overrides', help: 'partial UNetConfig as JSON, e.g. \'{"blockOutChannels":[8,16],"normNumGroups":4}\'', parse: json },
  { flags: '--class-conditional <bool>', path: 'classConditional', help: 'condition on class labels', parse: bool },
  { flags: '--prediction <type>', path: 'prediction', help: 'what the model predicts', choices: PREDICTIONS },
  { flags: '--beta-schedule <name>', path: 'schedule.betaSchedule', help: 'noise schedule', choices: BETA_SCHEDULES },
  { flags: '--num-train-timesteps <n>', path: 'schedule.numTrainTimesteps', help: 'training timesteps', parse: int('--num-train-timesteps') },
  { flags: '--beta-start <x>', path: 'schedule.betaStart', help: 'first beta (linear, scaled_linear)', parse: num('--beta-start') },
  { flags: '--beta-end <x>', path: 'schedule.betaEnd', help: 'last beta (linear, scaled_linear)', parse: num('--beta-end') },
  { flags: '--zero-snr <bool>', path: 'schedule.rescaleBetasZeroSnr', help: 'rescale betas to zero terminal SNR', parse: bool },
  { flags: '--lr <x>', path: 'lr', help: 'peak learning rate (AdamW)', parse: num('--lr') },
  { flags: '--lr-schedule <name>', path: 'lrSchedule', help: 'learning-rate schedule after warm-up', choices: ['constant', 'cosine'] },
  { flags: '--warmup-steps <n>', path: 'warmupSteps', help: 'linear warm-up steps', parse: int('--warmup-steps') },
  { flags: '--ema <decay>', path: 'regularizers.ema', help: 'EMA decay of the weights (0 = off)', parse: num('--ema') },
  { flags: '--dropout <rate>', path: 'regularizers.dropout', help: 'dropout rate in the residual blocks', parse: num('--dropout') },
  { flags: '--weight-decay <x>', path: 'regularizers.weightDecay', help: 'AdamW decoupled weight decay', parse: num('--weight-decay') },
  { flags: '--clip-grad-norm <x>', path: 'regularizers.clipGradNorm', help: 'clip gradients to this global norm (0 = off)', parse: num('--clip-grad-norm') },
  { flags: '--min-snr-gamma <x>', path: 'regularizers.minSnrGamma', help: 'min-SNR-gamma loss weighting (0 = off)', parse: num('--min-snr-gamma') },
  { flags: '--offset-noise <x>', path: 'regularizers.offsetNoise', help: 'offset-noise strength (0 = off)', parse: num('--offset-noise') },
  { flags: '--input-perturbation <x>', path: 'regularizers.inputPerturbation', help: 'input-perturbation gamma (0 = off)', parse: num('--input-perturbation') },
  { flags: '--p-uncond <p>', path: 'regularizers.pUncond', help: 'label dropout for classifier-free guidance', parse: num('--p-uncond') },
  { flags: '--augment-shift <px>', path: 'augmentShift', help: 'random translation of training images (pixels)', parse: int('--augment-shift') },
  { flags: '--log-every <n>', path: 'every.log', help: 'steps between metrics lines', parse: int('--log-every') },
  { flags: '--validate-every <n>', path: 'every.validate', help: 'steps between validation losses', parse: int('--validate-every') },
  { flags: '--sample-every <n>', path: 'every.sample', help: 'steps between sample grids', parse: int('--sample-every') },
  { flags: '--checkpoint-every <n>', path: 'every.checkpoint', help: 'steps between checkpoints', parse: int('--checkpoint-every') },
  { flags: '--sampler <name>', path: 'sampler.name', help: 'sampler of the sample grids', choices: SAMPLERS },
  { flags: '--sample-steps <n>', path: 'sampler.steps', help: 'sampler steps of the sample grids', parse: int('--sample-steps') },
  { flags: '--guidance <scale>', path: 'sampler.guidance', help: 'classifier-free guidance scale of the grids', parse: num('--guidance') },
  { flags: '--guidance-rescale <x>', path: 'sampler.guidanceRescale', help: 'guidance rescale (Lin et al.)', parse: num('--guidance-rescale') },
  { flags: '--threshold <kind>', path: 'sampler.threshold', help: 'x0 processing while sampling', choices: THRESHOLDS },
  { flags: '--eta <x>', path: 'sampler.eta', help: 'DDIM eta', parse: num('--eta') },
  { flags: '--sigmas <plan>', path: 'sampler.sigmas', help: `σ plan of the grids' sampler (${samplersWithPlan('karras').join(', ')})`, choices: SIGMA_PLANS },
  { flags: '--grid-cols <n>', path: 'sampler.cols', help: 'samples per grid row (per class)', parse: int('--grid-cols') },
  { flags: '--seed <n>', path: 'seed', help: 'seed of all randomness', parse: int('--seed') },
  { flags: '--threads <n>', path: 'threads', help: 'worker threads for data parallelism (1 = none)', parse: int('--threads') },
];

for (const f of TRAIN_FLAGS) flagNames[f.path] = f.flags.split(' ')[0]!;

function getPath(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((a, k) => (a as Record<string, unknown> | undefined)?.[k], o);
}

function addTrainFlags(cmd: Command): Command {
  const d = presetConfig('mnist-tiny');
  for (const f of TRAIN_FLAGS) {
    const def = getPath(d, f.path);
    const opt = new Option(f.flags, f.help).default(def, def === undefined ? 'off' : `from the preset; mnist-tiny: ${JSON.stringify(def)}`);
    if (f.choices) opt.choices(f.choices as string[]);
    if (f.parse) opt.argParser(f.parse as (v: string, prev: unknown) => unknown);
    cmd.addOption(opt);
  }
  return cmd;
}

/** Only flags given on the command line override the preset and config file. */
function flagOverrides(cmd: Command): Record<string, unknown> {
  const opts = cmd.opts();
  const out: Record<string, unknown> = {};
  for (const f of TRAIN_FLAGS) {
    const key = cmd.options.find((o) => o.flags === f.flags)!.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli') out[f.path] = opts[key];
  }
  // A folder is the dataset 'folder'.
  if (out.dataDir !== undefined && out.dataset === undefined) out.dataset = 'folder';
  return out;
}

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
    .description('Train, sample, evaluate and fine-tune diffusion models on MNIST and Fashion-MNIST with TensorFlow.js')
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
    .addOption(new Option('--steps <n>', 'sampler steps').argParser(int('--steps')).default(tiny.steps, runs(tiny.steps)))
    .addOption(new Option('--guidance <scale>', 'classifier-free guidance scale (1 = none)').argParser(num('--guidance')).default(tiny.guidance, runs(tiny.guidance)))
    .addOption(new Option('--guidance-rescale <x>', 'guidance rescale in [0, 1]').argParser(num('--guidance-rescale')).default(tiny.guidanceRescale, runs(tiny.guidanceRescale)))
    .addOption(new Option('--threshold <kind>', 'x0 processing').choices(THRESHOLDS as string[]).default(tiny.threshold, runs(tiny.threshold)))
    .addOption(new Option('--eta <x>', 'DDIM eta').argParser(num('--eta')).default(tiny.eta, runs(tiny.eta)))
    .addOption(new Option('--sigmas <plan>', `σ plan: karras (${samplersWithPlan('karras').join(', ')}) or exponential (${samplersWithPlan('exponential').join(', ')})`)
      .choices(SIGMA_PLANS as string[]).default(tiny.sigmas, runs(tiny.sigmas ?? 'default')))
    .option('--seed <n>', 'seed of the initial noise', int('--seed'), 0)
    .addOption(new Option('--class <list>', 'comma-separated classes, one row each').argParser((v) => list(v).map(Number)).default([], 'every class'))
    .addOption(new Option('--n <n>', 'images per row (per class)').argParser(int('--n')).default(tiny.cols, `the run's grid columns; mnist-tiny: ${tiny.cols}`))
    .option('--out <dir>', 'output folder', '<run>/sampled')
    .option('--each', 'also write every image as its own PNG', false)
    .option('--no-ema', 'use the raw weights instead of the EMA average (default: EMA weights when the checkpoint has them)')
    .addOption(new Option('--threads <n>', 'threads that sample (worker threads on wasm)').argParser(int('--threads')).default(undefined, "the run's, at most the cores here"))
    .action(async function (this: Command) {
      const o = cliOnly(this, ['sampler', 'steps', 'guidance', 'guidanceRescale', 'threshold', 'eta', 'sigmas', 'class', 'n']);
      await exitOnStop(() => sampleCommand({
        checkpoint: o.checkpoint, sampler: o.sampler, steps: o.steps, guidance: o.guidance, guidanceRescale: o.guidanceRescale,
        threshold: o.threshold, eta: o.eta, sigmas: o.sigmas, seed: o.seed, classes: o.class, n: o.n,
        out: o.out === '<run>/sampled' ? undefined : o.out, each: o.each, noEma: o.ema === false, threads: o.threads,
      }));
    });

  program.command('eval')
    .description('memorization rate, nearest-neighbour grid, classifier accuracy and Fréchet distance of samples (report.md + PNGs)')
    .requiredOption('--checkpoint <path>', 'run folder, its checkpoints/ folder, one checkpoints/ckpt-* folder, or a diffusers UNet2DModel folder')
    .option('--n <n>', 'samples per class (or in total if unconditional)', int('--n'), 20)
    .addOption(new Option('--sampler <name>', 'sampler').choices(SAMPLERS as string[]).default(tiny.name, runs(tiny.name)))
    .addOption(new Option('--steps <n>', 'sampler steps').argParser(int('--steps')).default(tiny.steps, runs(tiny.steps)))
    .addOption(new Option('--guidance <scale>', 'guidance scale').argParser(num('--guidance')).default(tiny.guidance, runs(tiny.guidance)))
    .addOption(new Option('--threshold <kind>', 'x0 processing').choices(THRESHOLDS as string[]).default(tiny.threshold, runs(tiny.threshold)))
    .option('--seed <n>', 'seed of the samples', int('--seed'), 1)
    .option('--classifier-epochs <n>', 'epochs of the feature classifier (cached)', int('--classifier-epochs'), 4)
    .option('--classifier-train-size <n>', 'training images of the classifier (0 = all)', int('--classifier-train-size'), 0)
    .option('--out <dir>', 'report folder', '<run>/eval')
    .addOption(new Option('--threads <n>', 'threads that sample (worker threads on wasm)').argParser(int('--threads')).default(undefined, "the run's, at most the cores here"))
    .action(async function (this: Command) {
      const o = cliOnly(this, ['sampler', 'steps', 'guidance', 'threshold']);
      await exitOnStop(() => evalCommand({
        checkpoint: o.checkpoint, n: o.n, sampler: o.sampler, steps: o.steps, guidance: o.guidance, threshold: o.threshold, seed: o.seed,
        classifierEpochs: o.classifierEpochs, classifierTrainSize: o.classifierTrainSize, out: o.out === '<run>/eval' ? undefined : o.out, threads: o.threads,
      }));
    });

  addTrainFlags(
    program.command('fine-tune')
      .description('start from a checkpoint on another dataset, freezing parameters by name pattern, with a new learning rate')
      .requiredOption('--checkpoint <path>', 'run folder, checkpoint or diffusers UNet2DModel folder to start from')
      .option('--freeze <patterns>', "comma-separated parameter name patterns to keep fixed, ours or diffusers', e.g. 'down.*,mid.*' or 'down_blocks.*'", '')
      .option('--config <file.json>', 'JSON config over the source run\'s settings', '')
      .option('--out <dir>', 'run folder', 'runs/<preset>-ft-<dataset>-<timestamp>')
      .option('--max-steps <n>', 'stop after this many steps in this call (0 = run to --steps)', int('--max-steps'), 0),
  ).action(async function (this: Command) {
    const o = this.opts();
    const res = await fineTuneCommand({
      checkpoint: o.checkpoint, freeze: list(o.freeze), config: o.config || undefined,
      out: o.out.startsWith('runs/<preset>') ? undefined : o.out, overrides: flagOverrides(this), maxSteps: o.maxSteps || undefined,
    });
    if (res.signal) process.exitCode = exitCodeOf(res.signal);
  });
  program.command('distill')
    .description('progressive distillation: students of teacher-steps/2, /4, … DDIM steps, one run folder per halving, and a table of accuracy and Fréchet distance beside the teacher')
    .requiredOption('--checkpoint <path>', 'the teacher: run folder, its checkpoints/ folder or one checkpoints/ckpt-* folder')
    .requiredOption('--halvings <k>', 'rounds; the last student takes teacher-steps / 2^k steps', int('--halvings'))
    .option('--teacher-steps <n>', "the first teacher's DDIM steps", int('--teacher-steps'), 64)
    .option('--steps-per-halving <n>', 'optimisation steps per halving', int('--steps-per-halving'), 2000)
    .addOption(new Option('--guidance <scale>', "teacher's classifier-free guidance (default: the run's)").argParser(num('--guidance')).default(undefined, "the run's"))
    .addOption(new Option('--batch-size <n>', "images per step (default: the run's)").argParser(int('--batch-size')).default(undefined, "the run's"))
    .addOption(new Option('--lr <x>', "peak learning rate, cosine to 0 per halving (default: the run's / 4)").argParser(num('--lr')).default(undefined, "the run's / 4"))
    .option('--eval-n <n>', 'evaluation samples per class (0 = no table)', int('--eval-n'), 20)
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
