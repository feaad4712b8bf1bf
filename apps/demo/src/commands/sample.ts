import { availableParallelism } from 'node:os';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { showValue } from '@tfjs-diffusion/schedules';
import { temporaryPath } from '@tfjs-diffusion/schedules/node';
import { basename, join, resolve } from 'node:path';
import { initDemoBackend } from '../backendInit.js';
import { createTaskProgress } from '../progress.js';
import { buildModel, buildSchedule, gridLabels, loadWeights, startSampler, SAMPLE_CHUNK, sampleImages } from '../build.js';
import { checkFits, checkImageCount, checkThreads } from '../sizes.js';
import { validateConfig } from '../config.js';
import { imageGridPng } from '@tfjs-diffusion/viz/node';
import { SAMPLERS, THRESHOLDS, type SamplerName, type SigmaPlan, type Threshold } from '../presets.js';
import { checkpointStep, writeFileAtomic, writeFileNew } from '../runFolder.js';
import { classIndices } from '../classes.js';
import { openCheckpoint } from '../openCheckpoint.js';
import { applyLoraFiles, type LoraFile, loraTag } from '../lora.js';

/** Pixels between the grid's cells and around them. */
const GRID_PADDING = 2;

export interface SampleCommandOptions {
  checkpoint: string;
  sampler?: SamplerName;
  steps?: number;
  guidance?: number;
  guidanceRescale?: number;
  threshold?: Threshold;
  eta?: number;
  /** σ plan of the samplers that take one (default: the run's). */
  sigmas?: SigmaPlan;
  seed?: number;
  /** Only these classes, one row each (class-conditional models): indices, or the run's class names. */
  classes?: (number | string)[];
  /** Images per row (per class). */
  n?: number;
  out?: string;
  /** Threads that sample (this one included); default the run's, at most the cores here. */
  threads?: number;
  each?: boolean;
  /** Use the raw weights even when the checkpoint has an EMA average. */
  noEma?: boolean;
  /** LoRA adapter files applied (merged) at their weights. */
  lora?: LoraFile[];
  quiet?: boolean;
}

export interface SampleCommandResult {
  grid: string;
  /** The caption file beside the grid: what each row is (class and name), the cell size and the sampler. */
  captions: string;
  images: string[];
  rows: number;
  cols: number;
  weights: 'ema' | 'model' | 'model-folder' | 'diffusers';
  /** Threads that sampled. */
  threads: number;
}

/** How the weights read are named: EMA or raw when the folder says, else its kind. */
function weightsLabel(w: { source: string; ema: boolean | undefined }): string {
  return w.ema === true ? 'EMA' : w.ema === false ? 'raw' : w.source;
}

/** `sample`: a PNG grid from a checkpoint with any sampler, guidance and thresholding. */
export async function sampleCommand(o: SampleCommandOptions): Promise<SampleCommandResult> {
  await initDemoBackend(o.quiet);
  const { dir: runDir, checkpoint, run } = await openCheckpoint(o.checkpoint);
  const c = run.demo;
  const s = {
    ...c.sampler,
    ...(o.sampler !== undefined && { name: o.sampler }),
    ...(o.steps !== undefined && { steps: o.steps }),
    ...(o.guidance !== undefined && { guidance: o.guidance }),
    ...(o.guidanceRescale !== undefined && { guidanceRescale: o.guidanceRescale }),
    ...(o.threshold !== undefined && { threshold: o.threshold }),
    ...(o.eta !== undefined && { eta: o.eta }),
    ...(o.sigmas !== undefined && { sigmas: o.sigmas }),
    ...(o.n !== undefined && { cols: o.n }),
  };
  validateConfig({ ...c, sampler: s }, 'sample options');
  if (!SAMPLERS.includes(s.name)) throw new Error(`--sampler must be one of ${SAMPLERS.join(', ')}; got '${s.name}'`);
  if (!THRESHOLDS.includes(s.threshold)) throw new Error(`--threshold must be one of ${THRESHOLDS.join(', ')}; got '${s.threshold}'`);
  const numClasses = c.classConditional ? run.dataset.numClasses : undefined;
  if (o.classes?.length && numClasses === undefined) throw new Error('--class needs a class-conditional model');
  const classes = numClasses === undefined || !o.classes?.length ? undefined : classIndices(o.classes, run.dataset.classNames ?? [], numClasses);
  const { height, width, channels } = run.dataset;
  // Sizes first, the model's (its config names the source) before the request's: nothing is allocated for what cannot fit.
  const guided = numClasses !== undefined && s.guidance !== 1 && s.guidance > 0;
  checkFits(run.model, Math.min(s.cols, SAMPLE_CHUNK) * (guided ? 2 : 1), false, `${runDir}/config.json: the model`);
  const rows = numClasses === undefined ? s.cols : (classes?.length ?? numClasses);
  const n = rows * s.cols;
  checkImageCount(n, rows, s.cols, { height, width, channels }, `--n ${s.cols}${numClasses !== undefined ? ` × ${rows} class${rows === 1 ? '' : 'es'}` : ` (an ${s.cols} × ${s.cols} grid)`}`);
  checkFits(run.model, Math.min(n, SAMPLE_CHUNK) * (guided ? 2 : 1), false, `${runDir}/config.json: the model`);
  const labels = gridLabels(numClasses, s.cols, classes);
  const threads = o.threads !== undefined ? checkThreads(o.threads, '--') : Math.min(c.threads ?? 1, availableParallelism());
  const model = buildModel(run.model, c.seed);
  let parallel: Awaited<ReturnType<typeof startSampler>> | undefined;
  try {
    const weights = await loadWeights(model, checkpoint, !o.noEma);
    const adapters = applyLoraFiles(model, o.lora ?? []);
    parallel = await startSampler(model, threads);
    const seed = o.seed ?? 0;
    // Where the images go is checked before sampling, so an unwritable --out loses no work.
    const outDir = resolve(o.out ?? join(runDir, 'sampled'));
    // The name says what made the images; an existing file is never replaced (a -2, -3, ... suffix instead).
    const step = weights.step ?? checkpointStep(weights.path);
    const from = step !== undefined ? `step${step}` : basename(weights.path);
    const cls = numClasses === undefined ? 'uncond' : classes ? `class${classes.join('_')}` : 'allclasses';
    const extra = `${s.guidanceRescale ? `-rescale${s.guidanceRescale}` : ''}${s.eta ? `-eta${s.eta}` : ''}${s.sigmas && s.sigmas !== 'default' ? `-${s.sigmas}` : ''}`;
    const tag = `${from}-${weights.ema ? 'ema' : 'raw'}-${cls}-${s.name}-${s.steps}steps-g${s.guidance}${extra}-${s.threshold}-seed${seed}${loraTag(o.lora ?? [])}`;
    checkOutputFolder(outDir, o.each ? `${tag}-${String(n - 1).padStart(3, '0')}${labels ? `-class${Math.max(...labels)}` : ''}-99.png` : `${tag}-99.png`, o.out !== undefined);
    const t0 = performance.now();
    const bar = createTaskProgress('sample', n, 'images', o.quiet);
    const pixels = await sampleImages(model, buildSchedule(c), {
      ...s, sampler: s.name, seed, labels, n, numClasses, height, width, channels, onProgress: (done) => bar.update(done),
    }, SAMPLE_CHUNK, parallel);
    bar.stop();
    const png = imageGridPng;
    const grid = writeFileNew(join(outDir, `${tag}.png`), png(pixels, { n, height, width, channels: channels as 1 | 3, cols: s.cols, padding: GRID_PADDING }));
    // No text is drawn on the grid (other tools cut it into images): what each row is goes beside it.
    const captions = grid.replace(/\.png$/, '.json');
    const names = run.dataset.classNames ?? [];
    const rowClasses = labels ? Array.from({ length: rows }, (_, r) => labels[r * s.cols]!) : undefined;
    writeFileAtomic(captions, new TextEncoder().encode(JSON.stringify({
      image: basename(grid), rows, cols: s.cols, n, height, width, channels, padding: GRID_PADDING,
      rowClasses: rowClasses?.map((k) => ({ class: k, name: names[k] ?? String(k) })) ?? null,
      checkpoint: weights.path, step: step ?? null, weights: weights.ema ? 'ema' : 'raw',
      sampler: { name: s.name, steps: s.steps, guidance: s.guidance, guidanceRescale: s.guidanceRescale, threshold: s.threshold, eta: s.eta, sigmas: s.sigmas ?? 'default' }, seed,
    }, null, 2) + '\n'));
    const images: string[] = [];
    if (o.each) {
      const d = height * width * channels;
      for (let i = 0; i < n; i++) {
        const f = writeFileNew(join(outDir, `${tag}-${String(i).padStart(3, '0')}${labels ? `-class${labels[i]}` : ''}.png`), png(pixels.slice(i * d, (i + 1) * d), { n: 1, height, width, channels: channels as 1 | 3, cols: 1, padding: 0 }));
        images.push(f);
      }
    }
    if (!o.quiet) {
      console.log(`${n} samples with ${s.name}, ${s.steps} steps, guidance ${s.guidance}, ${weightsLabel(weights)} weights of ${weights.path}${adapters.length ? ` + ${adapters.length} LoRA adapter${adapters.length > 1 ? 's' : ''}` : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${parallel.threads} thread${parallel.threads === 1 ? '' : 's'}`);
      console.log(`grid: ${grid}${images.length ? ` (+ ${images.length} single images in ${outDir})` : ''}`);
    }
    if (!o.quiet) console.log(`captions: ${captions}${rowClasses ? ` (rows: ${rowClasses.map((k) => names[k] ?? k).join(', ')})` : ''}`);
    return { grid, captions, images, rows: Math.ceil(n / s.cols), cols: s.cols, weights: weights.source, threads: parallel.threads };
  } finally {
    await parallel?.dispose();
    model.dispose();
  }
}

/**
 * Creates `dir` and a probe file under the longest name `sample` will write, exclusively, then
 * removes it: a file given as --out, a folder that cannot be written or a name too long fails here, before the work.
 */
function checkOutputFolder(dir: string, longestName: string, given: boolean): void {
  const where = given ? `--out ${dir}` : `the output folder ${dir}`;
  if (Buffer.byteLength(longestName) > 255) {
    throw new Error(`${where}: the file name ${showValue(longestName, 80)} would be ${Buffer.byteLength(longestName)} bytes, more than the 255 a file name can have; ask for fewer --class values`);
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${where} is a file, not a folder; give a folder for the images`);
  const probe = temporaryPath(join(dir, longestName));
  try {
    mkdirSync(dir, { recursive: true });
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`${where}: cannot write the images there (${err.code ?? err.message}: ${err.code === 'ENOTDIR' ? 'a part of the path is a file' : err.code === 'ENAMETOOLONG' ? 'a name in the path is too long' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'EROFS' ? 'read-only file system' : err.message}); nothing was sampled`);
  } finally {
    try { rmSync(probe, { force: true }); } catch { /* never made: the folder is not there */ }
  }
}
