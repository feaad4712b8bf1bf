import { initDemoBackend } from '../backendInit.js';
import { resolveConfig } from '../config.js';
import { createRunFolder, defaultRunDir, type RunConfigFile, type RunLora } from '../runFolder.js';
import { openCheckpoint } from '../openCheckpoint.js';
import { checkDatasetShape, dataName, loadDataset } from '../dataset.js';
import { runTraining, type TrainRunResult } from '../trainLoop.js';
import { checkRun, hasCheckpoint, report } from './train.js';

export interface FineTuneCommandOptions {
  checkpoint: string;
  /** Dataset to fine-tune on. */
  dataset?: string;
  /** Parameter name patterns kept fixed, in our names ('down.*', '*.conv1.*') or diffusers' ('down_blocks.*'). */
  freeze?: string[];
  /** Train a LoRA adapter instead of the weights. */
  lora?: RunLora;
  config?: string;
  out?: string;
  overrides?: Record<string, unknown>;
  quiet?: boolean;
  maxSteps?: number;
}

/**
 * `fine-tune`: the model and training settings of the checkpoint's run, its weights as the
 * start, another dataset, frozen parameters and a new learning rate (flags).
 */
export async function fineTuneCommand(o: FineTuneCommandOptions): Promise<TrainRunResult> {
  const log = (s: string) => { if (!o.quiet) console.log(s); };
  const src = await openCheckpoint(o.checkpoint);
  const saved = src.run;
  const overrides = { ...o.overrides, ...(o.dataset ? { dataset: o.dataset } : {}) };
  const demo = resolveConfig({ base: { ...saved.demo, preset: `${saved.demo.preset}-ft` }, configFile: o.config, overrides, baseLabel: `${src.dir}/config.json` });
  if (o.lora && o.freeze?.length) throw new Error('--freeze and --lora-rank: a LoRA run freezes every base weight already; drop --freeze');
  const run: RunConfigFile = { ...saved, demo, fineTunedFrom: src.checkpoint, freeze: o.freeze ?? [], ...(o.lora && { lora: o.lora }) };
  checkRun(run, `${src.dir}/config.json`);
  const data = (await loadDataset(demo, { trainSize: 1, valSize: 1, seed: demo.seed, log })).train;
  checkDatasetShape(saved.dataset, data, dataName(demo), `--checkpoint ${o.checkpoint}`);
  if (demo.classConditional && data.numClasses !== saved.dataset.numClasses) {
    throw new Error(`--checkpoint ${o.checkpoint}: the model knows ${saved.dataset.numClasses} classes; ${dataName(demo)} has ${data.numClasses} (fine-tune onto a dataset with as many classes)`);
  }
  // The new run's classes are the new dataset's: Fashion-MNIST's class 0 is a T-shirt, not the digit 0.
  run.dataset = { ...saved.dataset, numClasses: data.numClasses, classNames: data.classNames };
  // Every check has passed: only now is anything written.
  await initDemoBackend(o.quiet);
  const paths = createRunFolder(o.out ?? defaultRunDir(`${demo.preset}-${demo.dataset}`), run, log);
  log(`run folder: ${paths.dir}`);
  try {
    const res = await runTraining({ paths, run, resume: false, quiet: o.quiet, maxStepsThisProcess: o.maxSteps, fineTune: { checkpoint: src.checkpoint, freeze: run.freeze! } });
    if (!o.quiet) report(res);
    return res;
  } catch (e) {
    if (!hasCheckpoint(paths)) paths.cleanup();
    throw e;
  } finally {
    paths.lock.release();
  }
}
