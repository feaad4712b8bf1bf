// The flags of train and fine-tune, each a config path (they override the preset and the config file), and the value parsers of every command.
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BETA_SCHEDULES, checkNesting, PREDICTIONS, showValue } from '@tfjs-diffusion/schedules';
import { DATASETS, SAMPLERS, SIGMA_PLANS, THRESHOLDS, presetConfig } from './presets.js';
import { samplersWithPlan } from './samplerOptions.js';
import { flagNames } from './config.js';
import { parseSetting, type SettingName } from '@tfjs-diffusion/training';

export const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer; got '${v}'`);
  return n;
};
export const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number; got '${v}'`);
  return n;
};
/** A flag with a range in the one table (training's SETTING_RANGES, the page's URL parameters' too). */
export const setting = (name: SettingName, flag: string) => (v: string) => {
  try {
    return parseSetting(name, v, flag);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
/** A comma-separated list of classes (indices or names); an empty list or item is refused here, before the run is read. */
export const classList = (v: string) => {
  const items = v.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError(`--class must be comma-separated class indices or names, e.g. 3 or 0,7; got '${v.length > 40 ? `${v.slice(0, 37)}...` : v}'`);
  return items;
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
  { flags: '--steps <n>', path: 'steps', help: 'total optimisation steps of the run', parse: setting('trainSteps', '--steps') },
  { flags: '--batch-size <n>', path: 'batchSize', help: 'images per step', parse: setting('batchSize', '--batch-size') },
  { flags: '--train-size <n>', path: 'trainSize', help: 'training images used (0 = all)', parse: int('--train-size') },
  { flags: '--val-size <n>', path: 'valSize', help: 'held-out validation images', parse: int('--val-size') },
  { flags: '--model <preset>', path: 'model.preset', help: 'U-Net preset of the models package', choices: ['mnist-tiny', 'mnist-ref'] },
  { flags: '--model-overrides <json>', path: 'model.overrides', help: 'partial UNetConfig as JSON, e.g. \'{"blockOutChannels":[8,16],"normNumGroups":4}\'', parse: json },
  { flags: '--class-conditional <bool>', path: 'classConditional', help: 'condition on class labels', parse: bool },
  { flags: '--prediction <type>', path: 'prediction', help: 'what the model predicts', choices: PREDICTIONS },
  { flags: '--beta-schedule <name>', path: 'schedule.betaSchedule', help: 'noise schedule', choices: BETA_SCHEDULES },
  { flags: '--num-train-timesteps <n>', path: 'schedule.numTrainTimesteps', help: 'training timesteps', parse: setting('numTrainTimesteps', '--num-train-timesteps') },
  { flags: '--beta-start <x>', path: 'schedule.betaStart', help: 'first beta (linear, scaled_linear)', parse: num('--beta-start') },
  { flags: '--beta-end <x>', path: 'schedule.betaEnd', help: 'last beta (linear, scaled_linear)', parse: num('--beta-end') },
  { flags: '--zero-snr <bool>', path: 'schedule.rescaleBetasZeroSnr', help: 'rescale betas to zero terminal SNR', parse: bool },
  { flags: '--lr <x>', path: 'lr', help: 'peak learning rate (AdamW)', parse: setting('learningRate', '--lr') },
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
  { flags: '--sample-steps <n>', path: 'sampler.steps', help: 'sampler steps of the sample grids', parse: setting('sampleSteps', '--sample-steps') },
  { flags: '--guidance <scale>', path: 'sampler.guidance', help: 'classifier-free guidance scale of the grids', parse: setting('guidance', '--guidance') },
  { flags: '--guidance-rescale <x>', path: 'sampler.guidanceRescale', help: 'guidance rescale (Lin et al.)', parse: setting('guidanceRescale', '--guidance-rescale') },
  { flags: '--threshold <kind>', path: 'sampler.threshold', help: 'x0 processing while sampling', choices: THRESHOLDS },
  { flags: '--eta <x>', path: 'sampler.eta', help: 'DDIM eta', parse: setting('eta', '--eta') },
  { flags: '--sigmas <plan>', path: 'sampler.sigmas', help: `σ plan of the grids' sampler (${samplersWithPlan('karras').join(', ')})`, choices: SIGMA_PLANS },
  { flags: '--grid-cols <n>', path: 'sampler.cols', help: 'samples per grid row (per class)', parse: setting('images', '--grid-cols') },
  { flags: '--seed <n>', path: 'seed', help: 'seed of all randomness', parse: setting('seed', '--seed') },
  { flags: '--threads <n>', path: 'threads', help: 'worker threads for data parallelism (1 = none)', parse: setting('threads', '--threads') },
];

for (const f of TRAIN_FLAGS) flagNames[f.path] = f.flags.split(' ')[0]!;

function getPath(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((a, k) => (a as Record<string, unknown> | undefined)?.[k], o);
}

export function addTrainFlags(cmd: Command): Command {
  const d = presetConfig('mnist-tiny');
  for (const f of TRAIN_FLAGS) {
    const def = getPath(d, f.path);
    const opt = new Option(f.flags, f.help).default(def, def === undefined ? 'off' : `from the preset; mnist-tiny: ${JSON.stringify(def)}`);
    if (f.choices) opt.choices(f.choices as string[]);
    if (f.parse) opt.argParser(f.parse as (v: string, prev: unknown) => unknown);
    cmd.addOption(opt);
  }
  // Not a config path: it sets two (prediction, sampler.name), which the run config stores.
  cmd.addOption(
    new Option('--objective <kind>', "'flow': flow matching (prediction 'flow', grids sampled with flow-euler); 'diffusion': the --prediction target").choices(['diffusion', 'flow']).default('diffusion'),
  );
  return cmd;
}

/** Only flags given on the command line override the preset and config file. */
export function flagOverrides(cmd: Command): Record<string, unknown> {
  const opts = cmd.opts();
  const out: Record<string, unknown> = {};
  for (const f of TRAIN_FLAGS) {
    const key = cmd.options.find((o) => o.flags === f.flags)!.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli') out[f.path] = opts[key];
  }
  if (opts.objective === 'flow') {
    if (out.prediction !== undefined && out.prediction !== 'flow') throw new Error(`--objective flow trains prediction 'flow'; got --prediction ${String(out.prediction)}`);
    out.prediction = 'flow';
    out['sampler.name'] ??= 'flow-euler';
  }
  // A folder is the dataset 'folder'.
  if (out.dataDir !== undefined && out.dataset === undefined) out.dataset = 'folder';
  return out;
}
