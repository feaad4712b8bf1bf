import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createDistiller, halvingGuidance, type Trainer, type TrainableDenoiser } from '@tfjs-diffusion/training';
import { jsonlWriter, loadCheckpoint, saveCheckpoint, truncateMetrics } from '@tfjs-diffusion/training/node';
import { initDemoBackend } from '../backendInit.js';
import { buildModel, buildSchedule, loadWeights } from '../build.js';
import { batchSource, loadDataset } from '../dataset.js';
import { createProgress } from '../progress.js';
import { acquireRunLock } from '../lock.js';
import { openCheckpoint, runPaths, writeFileAtomic, writeJsonAtomic, type RunConfigFile } from '../runFolder.js';
import { evalCommand } from './eval.js';
import { onCtrlC } from '../interrupt.js';

export interface DistillCommandOptions {
  /** The teacher: a run folder, checkpoint or model folder the demo reads. */
  checkpoint: string;
  /** Rounds k; the last student takes teacherSteps / 2^k steps. */
  halvings: number;
  /** The first teacher's DDIM steps. Default 64. */
  teacherSteps?: number;
  /** Optimisation steps per halving. Default 2000. */
  stepsPerHalving?: number;
  out: string;
  /** Classifier-free guidance of the teacher (the students are conditioned on the class only). Default: the run's sampler guidance. */
  guidance?: number;
  batchSize?: number;
  /** Peak learning rate, annealed to 0 over each halving (cosine; the paper anneals linearly). Default: the run's lr / 4. */
  lr?: number;
  /** Evaluation samples per class; 0 skips the table. Default 20. */
  evalN?: number;
  classifierEpochs?: number;
  classifierTrainSize?: number;
  /** Stop after this many optimisation steps in this call (tests, time-boxed runs); run again to continue. */
  maxSteps?: number;
  quiet?: boolean;
}

export interface DistillRow {
  steps: number;
  model: string;
  classifierAccuracy?: number;
  frechetDistance: number;
}

export interface DistillCommandResult {
  /** One run folder per halving, in order; each samples with `cli sample --checkpoint <folder> --steps <studentSteps>`. */
  halvings: { dir: string; studentSteps: number; step: number; done: boolean }[];
  table?: { markdown: string; json: string; rows: DistillRow[] };
}

/** The run folder of halving r: `<out>/halving-<r>-<N>steps`. */
export const halvingDir = (out: string, r: number, n: number) => join(resolve(out), `halving-${r}-${n}steps`);

function int(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}; got ${v}`);
  return v;
}

/** `distill`: progressive distillation of a run into students of teacherSteps/2, /4, … DDIM steps, then the evaluation table. */
export async function distillCommand(o: DistillCommandOptions): Promise<DistillCommandResult> {
  await initDemoBackend(o.quiet);
  const log = (s: string) => { if (!o.quiet) console.log(s); };
  const halvings = int('--halvings', o.halvings, 1);
  const teacherSteps = int('--teacher-steps', o.teacherSteps ?? 64, 2);
  const stepsPerHalving = int('--steps-per-halving', o.stepsPerHalving ?? 2000, 1);
  if (teacherSteps % 2 ** halvings !== 0) throw new Error(`--teacher-steps must be divisible by 2^halvings = ${2 ** halvings}; got ${teacherSteps}`);
  if (o.maxSteps !== undefined) int('--max-steps', o.maxSteps, 1);
  const { checkpoint: source, run: teacherRun } = openCheckpoint(o.checkpoint);
  const c = teacherRun.demo;
  const guidance = o.guidance ?? (c.classConditional ? c.sampler.guidance : 1);
  if (!Number.isFinite(guidance)) throw new Error(`--guidance must be a number; got ${o.guidance}`);
  if (guidance !== 1 && !c.classConditional) throw new Error('--guidance needs a class-conditional teacher; this run is unconditional (use --guidance 1)');
  if (c.prediction === 'epsilon') throw new Error("--checkpoint: the teacher predicts 'epsilon'; distillation needs a 'v' or 'sample' model (train with --prediction v)");
  const batchSize = int('--batch-size', o.batchSize ?? c.batchSize, 1);
  const lr = o.lr ?? c.lr / 4;
  if (!(lr > 0)) throw new Error(`--lr must be a number > 0; got ${o.lr}`);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });

  const data = loadDataset(c.dataset, { trainSize: c.trainSize, valSize: c.valSize, seed: c.seed });
  const schedule = buildSchedule(c);
  const result: DistillCommandResult = { halvings: [] };
  let budget = o.maxSteps ?? Infinity;
  let stop = false;
  let teacherPath = source;
  for (let r = 1, n = teacherSteps / 2; r <= halvings; r++, n /= 2) {
    const dir = halvingDir(out, r, n);
    const roundGuidance = halvingGuidance(r, guidance);
    const paths = runPaths(dir);
    const run: RunConfigFile & { distilledFrom: unknown; studentSteps: number } = {
      ...teacherRun,
      demo: { ...c, steps: stepsPerHalving, batchSize, lr, lrSchedule: 'cosine', warmupSteps: 0, sampler: { ...c.sampler, name: 'ddim', steps: n, guidance: 1, eta: 0 } },
      distilledFrom: { teacher: teacherPath, teacherSteps: 2 * n, guidance: roundGuidance, halving: r, weighting: 'truncated-snr' },
      studentSteps: n,
    };
    // One writer per halving folder, as for train.
    mkdirSync(dir, { recursive: true });
    const lock = acquireRunLock(dir, { log });
    const resume = existsSync(join(paths.checkpoints, 'latest'));
    if (resume) {
      // Continue only the same distillation: another teacher, guidance or budget would mix two runs in one folder.
      const saved = JSON.parse(readFileSync(paths.config, 'utf8')) as typeof run;
      const a = JSON.stringify([saved.distilledFrom, saved.demo.steps, saved.demo.batchSize, saved.demo.lr]);
      const b = JSON.stringify([run.distilledFrom, stepsPerHalving, batchSize, lr]);
      if (a !== b) {
        throw new Error(`--out ${out}: ${dir} holds a distillation with other settings (teacher, guidance, steps per halving, batch size, lr: ${a}); ` +
          `now ${b}. Use another --out or the same settings`);
      }
    } else {
      mkdirSync(paths.checkpoints, { recursive: true });
      writeJsonAtomic(paths.config, run);
    }
    const teacher = buildModel(teacherRun.model, c.seed);
    const student = buildModel(teacherRun.model, c.seed);
    let trainer: Trainer | undefined;
    try {
      await loadWeights(teacher, teacherPath);
      await loadWeights(student, teacherPath); // Algorithm 2: η ← θ (a resume replaces them with the checkpoint's)
      const r0 = c.regularizers;
      trainer = await createDistiller({
        teacher: teacher as unknown as TrainableDenoiser,
        student: student as unknown as TrainableDenoiser,
        schedule,
        studentSteps: n,
        guidanceScale: roundGuidance,
        data: batchSource(data.train, { batchSize, seed: c.seed + 1 + r, shift: 0, labels: c.classConditional }),
        learningRate: { schedule: 'cosine', peak: lr, totalSteps: stepsPerHalving },
        regularizers: {
          ema: r0.ema > 0 ? { decay: r0.ema, useEmaWarmup: true, power: 3 / 4 } : undefined,
          weightDecay: r0.weightDecay,
          clipGradNorm: r0.clipGradNorm > 0 ? r0.clipGradNorm : undefined,
        },
        seed: c.seed + r,
      });
      if (resume) {
        await loadCheckpoint(trainer, paths.checkpoints);
        truncateMetrics(paths.metrics, trainer.step);
      }
      const tr = trainer;
      const start = tr.step;
      if (start < stepsPerHalving && budget > 0) {
        log(`halving ${r}/${halvings}: ${2 * n} teacher steps → ${n} student steps (${resume ? `resumed at step ${start}` : 'from the teacher'}), guidance ${roundGuidance}${r > 1 ? ' (the teacher is a guided student)' : ''}, ${dir}`);
        const end = Math.min(stepsPerHalving, start + budget);
        const metrics = jsonlWriter(paths.metrics);
        const progress = createProgress(start, stepsPerHalving, batchSize, o.quiet);
        const t0 = performance.now();
        let sum = 0;
        let k = 0;
        let saved = start;
        // Ctrl-C: finish the step, save a checkpoint, stop (the same command continues); twice: leave at once.
        const ctrlC = onCtrlC(() => {
          stop = true;
          process.stderr.write('\nCtrl-C: saving a checkpoint and exiting (Ctrl-C again to exit at once)\n');
        });
        try {
          while (tr.step < end && !stop) {
            // a step is synchronous compute: yield so a Ctrl-C is seen between steps
            await new Promise((res) => setImmediate(res));
            if (stop) break;
            const res = await tr.trainStep();
            sum += res.loss;
            k++;
            const ips = ((res.step - start) * batchSize) / ((performance.now() - t0) / 1000);
            progress.update(res.step, res.loss, ips);
            const last = res.step === end;
            if (res.step % c.every.log === 0 || last) {
              metrics.write({ step: res.step, loss: sum / k, lr: res.learningRate, gradNorm: res.gradNorm, imagesPerSecond: ips, time: new Date().toISOString() });
              sum = 0;
              k = 0;
            }
            if ((res.step % c.every.checkpoint === 0 || last) && !res.skipped) {
              await saveCheckpoint(tr, paths.checkpoints, { keep: 2, modelDir: dir });
              saved = res.step;
            }
          }
          if (stop && saved !== tr.step && tr.guard.consecutive === 0) await saveCheckpoint(tr, paths.checkpoints, { keep: 2, modelDir: dir });
        } finally {
          ctrlC.release();
          progress.stop();
        }
        budget -= tr.step - start;
      }
      result.halvings.push({ dir, studentSteps: n, step: tr.step, done: tr.step >= stepsPerHalving });
      if (tr.step < stepsPerHalving) {
        log(`stopped at step ${tr.step} of ${stepsPerHalving} in halving ${r}; run the same command again to continue`);
        return result;
      }
    } finally {
      if (trainer) await trainer.dispose();
      teacher.dispose();
      student.dispose();
      lock.release();
    }
    teacherPath = dir;
  }

  const evalN = o.evalN ?? 20;
  if (evalN === 0) return result;
  int('--eval-n', evalN, 1);
  const rows: DistillRow[] = [];
  const evalOne = async (checkpoint: string, steps: number, g: number, outDir: string, model: string) => {
    const e = await evalCommand({
      checkpoint, steps, guidance: g, sampler: 'ddim', threshold: 'none', n: evalN, seed: 1, out: outDir, quiet: true,
      classifierEpochs: o.classifierEpochs, classifierTrainSize: o.classifierTrainSize,
    });
    rows.push({ steps, model, classifierAccuracy: e.classifierAccuracy, frechetDistance: e.frechetDistance });
    log(`${model}, ${steps} steps: accuracy ${e.classifierAccuracy?.toFixed(3) ?? '-'}, Fréchet distance ${e.frechetDistance.toFixed(3)}`);
  };
  await evalOne(source, teacherSteps, guidance, join(out, 'eval', `teacher-${teacherSteps}steps`), 'teacher (DDIM)');
  for (const h of result.halvings) {
    await evalOne(h.dir, h.studentSteps, 1, join(h.dir, 'eval'), 'student');
    await evalOne(source, h.studentSteps, guidance, join(out, 'eval', `teacher-${h.studentSteps}steps`), 'teacher (DDIM)');
  }
  const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(3));
  const markdown = [
    `# Progressive distillation of ${source}`,
    '',
    `Teacher: ${teacherSteps} DDIM steps ('trailing' grid), guidance ${guidance}; ${stepsPerHalving} steps of batch ${batchSize} per halving; ` +
      `${evalN} samples per class; accuracy of the evaluation classifier on the samples' classes, Fréchet distance on its features against held-out images.`,
    '',
    '| DDIM steps | model | classifier accuracy | Fréchet distance |',
    '| ---: | --- | ---: | ---: |',
    ...rows.map((x) => `| ${x.steps} | ${x.model} | ${fmt(x.classifierAccuracy)} | ${fmt(x.frechetDistance)} |`),
    '',
  ].join('\n');
  const md = join(out, 'distill.md');
  const json = join(out, 'distill.json');
  writeFileAtomic(md, new TextEncoder().encode(markdown));
  writeJsonAtomic(json, { source, teacherSteps, guidance, stepsPerHalving, batchSize, evalN, rows });
  log(`table: ${md}`);
  result.table = { markdown: md, json, rows };
  return result;
}

/** The student's step count stored in a halving folder's config.json. */
export function studentStepsOf(dir: string): number {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { studentSteps?: number };
  if (!Number.isInteger(cfg.studentSteps)) throw new Error(`${dir}: config.json has no studentSteps (not a distilled run)`);
  return cfg.studentSteps!;
}
