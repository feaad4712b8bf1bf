import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { initDemoBackend } from '../backendInit.js';
import { flagNames, resolveConfig } from '../config.js';
import { dataName, loadDataset } from '../dataset.js';
import { modelConfig } from '../build.js';
import { acquireRunLock } from '../lock.js';
import { createRunFolder, defaultRunDir, readRunConfig, runPaths, writeJsonAtomic, type RunConfigFile, type RunPaths } from '../runFolder.js';
import { checkFits, checkImageCount, checkThreads } from '../sizes.js';
import { checkResumeSteps, latestStep, runTraining, type TrainRunResult } from '../trainLoop.js';

export interface TrainCommandOptions {
  preset?: string;
  config?: string;
  out?: string;
  resume?: string;
  /** Flag overrides by config path ('regularizers.ema', 'sampler.name', ...). */
  overrides?: Record<string, unknown>;
  quiet?: boolean;
  /** Stop after this many steps in this call (the run's total stays `steps`); for tests and time-boxed runs. */
  maxSteps?: number;
}

async function datasetInfo(c: RunConfigFile['demo'], log: (s: string) => void): Promise<RunConfigFile['dataset']> {
  const d = (await loadDataset(c, { trainSize: 1, valSize: 1, seed: c.seed, log })).train;
  return { numClasses: d.numClasses, height: d.height, width: d.width, channels: d.channels, classNames: d.classNames };
}

/**
 * The checks every run passes before anything is written: the U-Net config (models package),
 * threads against the cores, the model and batch against the memory one instance holds.
 * `where` names the source of the model settings for the message.
 */
export function checkRun(run: RunConfigFile, where: string, opts: { capThreads?: boolean; log?: (s: string) => void } = {}): void {
  const c = run.demo;
  if (opts.capThreads && c.threads > availableParallelism()) {
    // A run saved on a larger machine resumes here with a thread per core.
    opts.log?.(`threads ${c.threads} (the run's) is more than the ${availableParallelism()} cores here; using ${availableParallelism()}`);
    c.threads = availableParallelism();
  } else {
    checkThreads(c.threads, '--');
  }
  const model = run.model;
  const perInstance = Math.ceil(c.batchSize / c.threads);
  checkFits(model, perInstance, true, `${where}: --batch-size ${c.batchSize}${c.threads > 1 ? ` over ${c.threads} threads` : ''}`);
  const classes = c.classConditional ? run.dataset.numClasses : 1;
  const gridImages = Math.min(64, classes * c.sampler.cols) * (c.classConditional && c.sampler.guidance !== 1 ? 2 : 1);
  checkFits(model, gridImages, false, `${where}: sample grids of ${classes} × ${c.sampler.cols} (--grid-cols)`);
  // A grid is `classes` rows of --grid-cols (unconditional: a square), sampled at every --sample-every: its size is checked as `sample` checks it.
  const rows = c.classConditional ? classes : c.sampler.cols;
  checkImageCount(rows * c.sampler.cols, rows, c.sampler.cols, run.dataset, `--grid-cols ${c.sampler.cols}${c.classConditional ? ` × ${rows} classes` : ` (an ${c.sampler.cols} × ${c.sampler.cols} grid)`}`);
}

/** The U-Net config of a demo config, with errors naming where its settings came from. */
function buildModelConfig(demo: RunConfigFile['demo'], dataset: RunConfigFile['dataset'], where: string): Record<string, unknown> {
  try {
    return modelConfig(demo, dataset.numClasses, dataset);
  } catch (e) {
    throw new Error(`${where}: model.overrides ${JSON.stringify(demo.model.overrides)}: ${(e as Error).message}`);
  }
}

/** What a resume cannot change: the network, what it predicts, its conditioning and its noise schedule. */
const FIXED_ON_RESUME = ['model.preset', 'model.overrides', 'prediction', 'classConditional', 'schedule.'];

const canonical = (v: unknown): string => JSON.stringify(v, (_, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** A resume continues what was trained: settings that would change it are refused by name, before anything is written. */
function checkResumeFlags(o: TrainCommandOptions, saved: RunConfigFile, dir: string): void {
  const why = `a resume continues the run as it was trained (${dir}/config.json); train a new run, or fine-tune from this one`;
  if (o.config !== undefined) throw new Error(`--config ${o.config}: ${why}`);
  if (o.preset !== undefined && o.preset !== saved.demo.preset) throw new Error(`--preset ${o.preset}: the run's preset is '${saved.demo.preset}'; ${why}`);
  for (const [path, v] of Object.entries(o.overrides ?? {})) {
    if (!FIXED_ON_RESUME.some((f) => (f.endsWith('.') ? path.startsWith(f) : path === f))) continue;
    const was = path.split('.').reduce<unknown>((a, k) => (a as Record<string, unknown> | undefined)?.[k], saved.demo);
    if (canonical(v) !== canonical(was)) throw new Error(`${flagNames[path] ?? path} ${JSON.stringify(v)}: the run was trained with ${JSON.stringify(was)}; ${why}`);
  }
}

/** `train`: a new run from a preset, config file and flags, or `--resume <run>` to continue one. */
export async function trainCommand(o: TrainCommandOptions): Promise<TrainRunResult> {
  const log = (s: string) => { if (!o.quiet) console.log(s); };
  let run: RunConfigFile;
  let paths: RunPaths;
  let release: () => void;
  let cleanup: (() => void) | undefined;
  let afterLoad: (() => void) | undefined;
  if (o.resume) {
    const rp = runPaths(o.resume);
    const saved = readRunConfig(o.resume);
    checkResumeFlags(o, saved, rp.dir);
    const reached = latestStep(rp.checkpoints);
    if (o.overrides?.steps !== undefined && reached !== undefined) checkResumeSteps(rp.dir, o.overrides.steps as number, reached);
    // On resume only flags change the run (e.g. more --steps); the preset and file stay as saved.
    const demo = resolveConfig({ base: saved.demo, overrides: o.overrides, baseLabel: rp.config });
    run = { ...saved, demo };
    checkRun(run, rp.config, { capThreads: !o.overrides?.threads, log });
    const lock = acquireRunLock(rp.dir, { log });
    release = lock.release;
    paths = rp;
    // config.json changes only once the checkpoint has loaded: a failed resume leaves it as it was.
    const changed = JSON.stringify(run) !== JSON.stringify(saved);
    afterLoad = changed ? () => writeJsonAtomic(rp.config, run) : undefined;
  } else {
    const demo = resolveConfig({ preset: o.preset, configFile: o.config, overrides: o.overrides });
    const dataset = await datasetInfo(demo, log);
    if (dataset.numClasses < 2 && demo.classConditional) {
      // diffusers' train_unconditional.py: a folder without class subfolders trains an unconditional model.
      if (o.overrides?.classConditional === true) throw new Error(`--class-conditional true: ${dataName(demo)} has no class subfolders, so no classes to condition on`);
      demo.classConditional = false;
      log(`${dataName(demo)} has no class subfolders: training an unconditional model`);
    }
    const where = o.config ? `--config ${o.config} / --model-overrides` : '--model-overrides';
    run = { demo, model: buildModelConfig(demo, dataset, where), dataset };
    checkRun(run, where);
    // Every check has passed: only now is anything written.
    await initDemoBackend(o.quiet);
    const made = createRunFolder(o.out ?? defaultRunDir(demo.preset), run, log);
    paths = made;
    release = made.lock.release;
    cleanup = made.cleanup;
  }
  await initDemoBackend(o.quiet);
  log(`run folder: ${paths.dir}`);
  try {
    const res = await runTraining({
      paths, run, resume: !!o.resume, quiet: o.quiet, maxStepsThisProcess: o.maxSteps, afterLoad,
      fineTune: run.fineTunedFrom ? { checkpoint: run.fineTunedFrom, freeze: run.freeze ?? [] } : undefined,
    });
    if (!o.quiet) report(res);
    return res;
  } catch (e) {
    if (cleanup && !hasCheckpoint(paths)) cleanup();
    throw e;
  } finally {
    release();
  }
}

export function hasCheckpoint(paths: RunPaths): boolean {
  return existsSync(join(paths.checkpoints, 'latest'));
}

export function report(res: TrainRunResult): void {
  console.log(`\n${res.interrupted ? 'stopped' : 'done'} at step ${res.step} in ${res.seconds.toFixed(1)} s (${res.imagesPerSecond.toFixed(1)} images/s)`);
  console.log(`run folder: ${res.run}`);
  if (res.samples.length) console.log(`sample grids: ${res.samples.join(', ')}`);
  console.log(`loss curve:   ${res.lossPlot}`);
  console.log(`checkpoints:  ${res.run}/checkpoints`);
}
