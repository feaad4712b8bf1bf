import { initDemoBackend } from '../backendInit.js';
import { resolveConfig } from '../config.js';
import { loadDataset } from '../dataset.js';
import { modelConfig } from '../build.js';
import { createRunFolder, defaultRunDir, readRunConfig, runPaths, writeJsonAtomic, type RunConfigFile } from '../runFolder.js';
import { runTraining, type TrainRunResult } from '../trainLoop.js';

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

function datasetInfo(c: RunConfigFile['demo']): RunConfigFile['dataset'] {
  const d = loadDataset(c.dataset, { trainSize: 1, valSize: 1, seed: c.seed }).train;
  return { numClasses: d.numClasses, height: d.height, width: d.width, channels: d.channels, classNames: d.classNames };
}

/** `train`: a new run from a preset, config file and flags, or `--resume <run>` to continue one. */
export async function trainCommand(o: TrainCommandOptions): Promise<TrainRunResult> {
  await initDemoBackend(o.quiet);
  let run: RunConfigFile;
  let paths;
  if (o.resume) {
    paths = runPaths(o.resume);
    const saved = readRunConfig(o.resume);
    // On resume only flags change the run (e.g. more --steps); the preset and file stay as saved.
    const demo = resolveConfig({ base: saved.demo, overrides: o.overrides });
    run = { ...saved, demo };
    writeJsonAtomic(paths.config, run);
  } else {
    const demo = resolveConfig({ preset: o.preset, configFile: o.config, overrides: o.overrides });
    const dataset = datasetInfo(demo);
    run = { demo, model: modelConfig(demo, dataset.numClasses), dataset };
    paths = createRunFolder(o.out ?? defaultRunDir(demo.preset), run);
  }
  if (!o.quiet) console.log(`run folder: ${paths.dir}`);
  const res = await runTraining({
    paths, run, resume: !!o.resume, quiet: o.quiet, maxStepsThisProcess: o.maxSteps,
    fineTune: run.fineTunedFrom ? { checkpoint: run.fineTunedFrom, freeze: run.freeze ?? [] } : undefined,
  });
  if (!o.quiet) report(res);
  return res;
}

export function report(res: TrainRunResult): void {
  console.log(`\n${res.interrupted ? 'stopped' : 'done'} at step ${res.step} in ${res.seconds.toFixed(1)} s (${res.imagesPerSecond.toFixed(1)} images/s)`);
  console.log(`run folder: ${res.run}`);
  if (res.samples.length) console.log(`sample grids: ${res.samples.join(', ')}`);
  console.log(`loss curve:   ${res.lossPlot}`);
  console.log(`checkpoints:  ${res.run}/checkpoints`);
}
