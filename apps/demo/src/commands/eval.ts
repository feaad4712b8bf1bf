import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { classAccuracy, frechetDistance, memorizationRate, neighbourGrid, trainClassifier } from '@tfjs-diffusion/evaluation';
import { classifierCache } from '@tfjs-diffusion/evaluation/node';
import { initDemoBackend } from '../backendInit.js';
import { createTaskProgress } from '../progress.js';
import { buildModel, buildSchedule, gridLabels, loadWeights, startSampler, sampleImages } from '../build.js';
import { checkImageCount, checkThreads } from '../sizes.js';
import { checkDatasetShape, dataKey, dataName, judgeOf, loadDataset } from '../dataset.js';
import { imageGridPng } from '@tfjs-diffusion/viz/node';
import type { ImageGridOptions } from '@tfjs-diffusion/viz';
import { SAMPLERS, THRESHOLDS, type SamplerName, type Threshold } from '../presets.js';
import { writeFileAtomic } from '../runFolder.js';
import { openCheckpoint } from '../openCheckpoint.js';

export interface EvalCommandOptions {
  checkpoint: string;
  /** Samples per class (class-conditional) or in total. */
  n?: number;
  sampler?: SamplerName;
  steps?: number;
  guidance?: number;
  threshold?: Threshold;
  seed?: number;
  /** Epochs of the feature classifier (cached per dataset and settings). */
  classifierEpochs?: number;
  /** Training images the classifier sees (0 = the run's whole training set). */
  classifierTrainSize?: number;
  out?: string;
  /** Threads that sample (this one included); default the run's, at most the cores here. */
  threads?: number;
  quiet?: boolean;
}

export interface EvalReport {
  report: string;
  neighbourGrid: string;
  samplesGrid: string;
  memorizationRate: number;
  classifierAccuracy?: number;
  classifierTestAccuracy: number;
  frechetDistance: number;
  /** Fréchet distance between the held-out set and a same-size slice of the training set: the floor to compare with. */
  frechetDistanceReference: number;
  samples: number;
}

/** `eval`: memorization rate, nearest-neighbour grid, classifier accuracy of conditional samples, Fréchet distance on classifier features. */
export async function evalCommand(o: EvalCommandOptions): Promise<EvalReport> {
  await initDemoBackend(o.quiet);
  const log = (s: string) => { if (!o.quiet) console.log(s); };
  const { dir: runDir, checkpoint, run } = await openCheckpoint(o.checkpoint);
  const c = run.demo;
  const sampler = o.sampler ?? c.sampler.name;
  if (!SAMPLERS.includes(sampler)) throw new Error(`--sampler must be one of ${SAMPLERS.join(', ')}; got '${sampler}'`);
  const threshold = o.threshold ?? c.sampler.threshold;
  if (!THRESHOLDS.includes(threshold)) throw new Error(`--threshold must be one of ${THRESHOLDS.join(', ')}; got '${threshold}'`);
  const perClass = o.n ?? 20;
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`--n must be an integer >= 1; got ${perClass}`);
  const outDir = resolve(o.out ?? join(runDir, 'eval'));
  const { height: h0, width: w0, channels: c0 } = run.dataset;
  const rows = c.classConditional ? run.dataset.numClasses : 1;
  checkImageCount(rows * perClass, rows, perClass, { height: h0, width: w0, channels: c0 }, `--n ${perClass}`);
  // Samples are compared with the run's dataset pixel by pixel (neighbours) and through a classifier trained on it: any shape, if it is the model's.
  const data = await loadDataset(c, { trainSize: c.trainSize, valSize: c.valSize, seed: c.seed });
  checkDatasetShape(run.dataset, data.train, dataName(c), `--checkpoint ${o.checkpoint}`);
  mkdirSync(outDir, { recursive: true });
  const { height, width, channels } = run.dataset;
  const numClasses = c.classConditional ? run.dataset.numClasses : undefined;
  const labels = gridLabels(numClasses, perClass);
  const n = labels?.length ?? perClass;

  const threads = o.threads !== undefined ? checkThreads(o.threads, '--') : Math.min(c.threads ?? 1, availableParallelism());
  const model = buildModel(run.model, c.seed);
  let pixels: Float32Array;
  let parallel: Awaited<ReturnType<typeof startSampler>> | undefined;
  try {
    const w = await loadWeights(model, checkpoint);
    parallel = await startSampler(model, threads);
    log(`sampling ${n} images (${sampler}, ${o.steps ?? c.sampler.steps} steps) with the ${w.source} weights of ${w.path} on ${parallel.threads} thread${parallel.threads === 1 ? '' : 's'}`);
    const bar = createTaskProgress('sample', n, 'images', o.quiet);
    pixels = await sampleImages(model, buildSchedule(c), {
      ...c.sampler, sampler, steps: o.steps ?? c.sampler.steps, guidance: o.guidance ?? c.sampler.guidance, threshold,
      seed: o.seed ?? 1, labels, n, numClasses, height, width, channels, onProgress: (done) => bar.update(done),
    }, undefined, parallel);
    bar.stop();
  } finally {
    await parallel?.dispose();
    model.dispose();
  }
  const shape = (k: number) => [k, height, width, channels] as const;
  const samples = { data: pixels, shape: shape(n) };
  const train = { data: data.train.data, shape: shape(data.train.n) };
  const png = imageGridPng;
  const samplesGrid = join(outDir, 'samples.png');
  writeFileAtomic(samplesGrid, png(pixels, { n, height, width, channels: channels as ImageGridOptions['channels'], cols: perClass, padding: 2 }));

  const mem = memorizationRate(samples, train);
  const shown = Math.min(n, 10);
  const pick = labels ? Array.from({ length: shown }, (_, i) => Math.floor((i * n) / shown)) : Array.from({ length: shown }, (_, i) => i);
  const d = height * width * channels;
  const sub = new Float32Array(shown * d);
  pick.forEach((idx, k) => sub.set(pixels.subarray(idx * d, (idx + 1) * d), k * d));
  const grid = neighbourGrid({ data: sub, shape: shape(shown) }, train, { k: 4 });
  const nnPath = join(outDir, 'nearest-neighbours.png');
  writeFileAtomic(nnPath, png(grid.pixels, { n: grid.n, height: grid.height, width: grid.width, channels: grid.channels, cols: grid.cols, padding: 2 }));

  const epochs = o.classifierEpochs ?? 4;
  const clsTrain = o.classifierTrainSize ?? 0;
  // The judge of emoji samples learns another vendor's artwork of the same categories: it reads content, not the copying of one style.
  const judgeSpec = judgeOf(c);
  const judge = judgeSpec === c ? data : await loadDataset(judgeSpec, { trainSize: 0, valSize: c.valSize, seed: c.seed });
  if (judge !== data && judge.train.classNames.join('\n') !== run.dataset.classNames.join('\n')) throw new Error(`${dataName(judgeSpec)}: its categories differ from the run's; cannot judge its samples`);
  checkDatasetShape(run.dataset, judge.train, dataName(judgeSpec), `--checkpoint ${o.checkpoint}`);
  const ctrain = clsTrain > 0 ? Math.min(clsTrain, judge.train.n) : judge.train.n;
  log(`training the feature classifier (${epochs} epochs on ${ctrain} images of ${dataName(judgeSpec)}; cached)`);
  const classifier = await trainClassifier(
    {
      train: { images: { data: judge.train.data.subarray(0, ctrain * d), shape: shape(ctrain) }, labels: judge.train.labels.subarray(0, ctrain) },
      test: { images: { data: judge.val.data, shape: shape(judge.val.n) }, labels: judge.val.labels },
    },
    { epochs, seed: 0, cache: classifierCache(join(resolve(runDir, '..'), `.classifier-${dataKey(judgeSpec)}-${ctrain}-${epochs}`)) },
  );
  try {
    const testAcc = classAccuracy(classifier, { data: judge.val.data, shape: shape(judge.val.n) }, judge.val.labels);
    const acc = labels ? classAccuracy(classifier, samples, labels) : undefined;
    const fSamples = classifier.features(samples);
    const fVal = classifier.features({ data: data.val.data, shape: shape(data.val.n) });
    const m = Math.min(data.val.n, data.train.n);
    const fTrain = classifier.features({ data: data.train.data.subarray(0, m * d), shape: shape(m) });
    const fd = frechetDistance(fSamples, fVal);
    const fdRef = frechetDistance(fTrain, fVal);
    const report = join(outDir, 'report.md');
    const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));
    writeFileSync(report, [
      `# Evaluation of ${checkpoint}`,
      '',
      `${n} samples (${sampler}, ${o.steps ?? c.sampler.steps} steps, guidance ${o.guidance ?? c.sampler.guidance}, threshold ${threshold}), ${c.dataset}: ${data.train.n} training and ${data.val.n} held-out images.`,
      '',
      ...(judge === data ? [] : [`The classifier learned ${dataName(judgeSpec)} (another vendor's artwork of the same categories); the Fréchet distances compare with held-out ${c.dataset} images.`, '']),
      '| metric | value |',
      '| --- | --- |',
      `| memorization rate (d(NN1)/d(NN2) < 1/3) | ${fmt(mem.rate)} |`,
      `| mean distance to the nearest training image | ${fmt(mem.nearestDistance.reduce((a, b) => a + b, 0) / n)} |`,
      ...(acc !== undefined ? [`| classifier accuracy of class-conditional samples | ${fmt(acc)} |`] : []),
      `| classifier accuracy on held-out real images${judge === data ? '' : ` (${judgeSpec.dataset})`} | ${fmt(testAcc)} |`,
      `| Fréchet distance on classifier features, samples vs held-out | ${fmt(fd)} |`,
      `| Fréchet distance, training vs held-out images (reference) | ${fmt(fdRef)} |`,
      '',
      '![samples](samples.png)',
      '',
      'Each row: a sample, then its 4 nearest training images (ℓ2 over pixels).',
      '',
      '![nearest neighbours](nearest-neighbours.png)',
      '',
    ].join('\n'));
    log(`report: ${report}`);
    return {
      report, neighbourGrid: nnPath, samplesGrid, memorizationRate: mem.rate, classifierAccuracy: acc,
      classifierTestAccuracy: testAcc, frechetDistance: fd, frechetDistanceReference: fdRef, samples: n,
    };
  } finally {
    classifier.dispose();
  }
}
