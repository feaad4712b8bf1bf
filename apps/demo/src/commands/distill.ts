import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { distill, halvingGuidance, type Trainer } from '@tfjs-diffusion/training';
import { offsetSeed } from '@tfjs-diffusion/schedules';
import { jsonlWriter, loadCheckpoint, saveCheckpoint, truncateMetrics } from '@tfjs-diffusion/training/node';
import { initDemoBackend } from '../backendInit.js';
import { buildModel, buildSchedule, loadWeights } from '../build.js';
import { batchSource, loadDataset } from '../dataset.js';
import { createProgress, type Progress } from '../progress.js';
import { acquireRunLock } from '../lock.js';
import { runPaths, writeFileAtomic, writeJsonAtomic, type RunConfigFile } from '../runFolder.js';
import { openCheckpoint } from '../openCheckpoint.js';
import { evalCommand } from './eval.js';
import { onStop, stopName, type StopSignal } from '../interrupt.js';
import { latestStep } from '../trainLoop.js';

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
  /** True when Ctrl-C, SIGTERM or SIGHUP stopped the distillation (a checkpoint of the step reached is saved). */
  interrupted?: boolean;
  /** What stopped it: the exit code is 128 + its number. */
  signal?: StopSignal;
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
  const { checkpoint: source, run: teacherRun } = await openCheckpoint(o.checkpoint);
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

  const data = await loadDataset(c, { trainSize: c.trainSize, valSize: c.valSize, seed: c.seed });
  const schedule = buildSchedule(c);
  const result: DistillCommandResult = { halvings: [] };
  const roundRun = (r: number, n: number, teacher: string): RunConfigFile & { distilledFrom: unknown; studentSteps: number } => ({
    ...teacherRun,
    demo: { ...c, steps: stepsPerHalving, batchSize, lr, lrSchedule: 'cosine', warmupSteps: 0, sampler: { ...c.sampler, name: 'ddim', steps: n, guidance: 1, eta: 0 } },
    distilledFrom: { teacher, teacherSteps: 2 * n, guidance: halvingGuidance(r, guidance), halving: r, weighting: 'truncated-snr' },
    studentSteps: n,
  });
  // Continue only the same distillation: another teacher, guidance or budget would mix two runs in one folder.
  const checkSaved = (dir: string, run: ReturnType<typeof roundRun>) => {
    const saved = JSON.parse(readFileSync(runPaths(dir).config, 'utf8')) as typeof run;
    const a = JSON.stringify([saved.distilledFrom, saved.demo.steps, saved.demo.batchSize, saved.demo.lr]);
    const b = JSON.stringify([run.distilledFrom, stepsPerHalving, batchSize, lr]);
    if (a !== b) {
      throw new Error(`--out ${out}: ${dir} holds a distillation with other settings (teacher, guidance, steps per halving, batch size, lr: ${a}); ` +
        `now ${b}. Use another --out or the same settings`);
    }
  };
  const teacherOf = (r: number) => (r === 1 ? source : halvingDir(out, r - 1, teacherSteps / 2 ** (r - 1)));
  // Halvings already finished are kept: the distillation continues at the first unfinished one.
  let startRound = 1;
  for (let n = teacherSteps / 2; startRound <= halvings; startRound++, n /= 2) {
    const dir = halvingDir(out, startRound, n);
    const ck = latestStep(runPaths(dir).checkpoints);
    if (ck === undefined) break;
    checkSaved(dir, roundRun(startRound, n, teacherOf(startRound)));
    if (ck < stepsPerHalving) break;
    result.halvings.push({ dir, studentSteps: n, step: ck, done: true });
  }

  const teacher = buildModel(teacherRun.model, c.seed);
  const student = buildModel(teacherRun.model, c.seed);
  let budget = o.maxSteps ?? Infinity;
  const stop = new AbortController();
  // Ctrl-C, SIGTERM, SIGHUP: finish the step, save a checkpoint, stop (the same command continues); twice: leave at once.
  const ctrlC = onStop((sig) => {
    stop.abort();
    process.stderr.write(`\n${stopName(sig)}: saving a checkpoint and exiting (${stopName(sig)} again to exit at once)\n`);
  });
  // The round being trained: its folder, lock, metrics, progress and last saved step.
  let cur: { dir: string; n: number; lock: { release(): void }; progress?: Progress; metrics?: ReturnType<typeof jsonlWriter>; start: number; saved: number; sum: number; k: number } | undefined;
  const save = async (tr: Trainer) => {
    await saveCheckpoint(tr, runPaths(cur!.dir).checkpoints, { keep: 2, modelDir: cur!.dir });
    cur!.saved = tr.step;
  };
  try {
    if (startRound <= halvings && budget > 0) {
      await loadWeights(teacher, teacherOf(startRound)); // the last finished student, or the run distilled
      const r0 = c.regularizers;
      await distill({
        teacher,
        student,
        schedule,
        teacherSteps,
        halvings,
        stepsPerHalving,
        startRound,
        guidanceScale: guidance,
        data: batchSource(data.train, { batchSize, seed: c.seed + 1 + startRound, shift: 0, labels: c.classConditional }),
        roundOptions: ({ round }) => ({ data: batchSource(data.train, { batchSize, seed: c.seed + 1 + round, shift: 0, labels: c.classConditional }), seed: offsetSeed(c.seed, round) }),
        learningRate: { schedule: 'cosine', peak: lr, totalSteps: stepsPerHalving },
        regularizers: {
          ema: r0.ema > 0 ? { decay: r0.ema, useEmaWarmup: true, power: 3 / 4 } : undefined,
          weightDecay: r0.weightDecay,
          clipGradNorm: r0.clipGradNorm > 0 ? r0.clipGradNorm : undefined,
        },
        onRoundStart: async ({ round: r, studentSteps: n, trainer: tr }) => {
          const dir = halvingDir(out, r, n);
          const paths = runPaths(dir);
          const run = roundRun(r, n, teacherOf(r));
          // One writer per halving folder, as for train.
          mkdirSync(dir, { recursive: true });
          cur = { dir, n, lock: acquireRunLock(dir, { log }), start: 0, saved: 0, sum: 0, k: 0 };
          const resume = latestStep(paths.checkpoints) !== undefined;
          if (resume) {
            checkSaved(dir, run);
            await loadCheckpoint(tr, paths.checkpoints);
            truncateMetrics(paths.metrics, tr.step);
          } else {
            mkdirSync(paths.checkpoints, { recursive: true });
            writeJsonAtomic(paths.config, run);
          }
          cur.start = cur.saved = tr.step;
          if (tr.step < stepsPerHalving && budget > 0) {
            const g = halvingGuidance(r, guidance);
            log(`halving ${r}/${halvings}: ${2 * n} teacher steps → ${n} student steps (${resume ? `resumed at step ${tr.step}` : 'from the teacher'}), guidance ${g}${r > 1 ? ' (the teacher is a guided student)' : ''}, ${dir}`);
            cur.metrics = jsonlWriter(paths.metrics);
            cur.progress = createProgress(tr.step, stepsPerHalving, batchSize, o.quiet);
          }
        },
        fit: {
          signal: stop.signal,
          onStep: async (e) => {
            const h = cur!;
            h.sum += e.loss;
            h.k++;
            budget--;
            const ips = e.stepsPerSecond * batchSize;
            h.progress?.update(e.step, e.loss, ips);
            const last = e.last || budget <= 0;
            if (e.step % c.every.log === 0 || last) {
              h.metrics!.write({ step: e.step, loss: h.sum / h.k, lr: e.learningRate, gradNorm: e.gradNorm, imagesPerSecond: ips, time: new Date().toISOString() });
              h.sum = 0;
              h.k = 0;
            }
            if ((e.step % c.every.checkpoint === 0 || last) && !e.skipped) await save(e.trainer);
            if (budget <= 0) stop.abort();
          },
        },
        onRound: async ({ trainer: tr, studentSteps: n, stopped }) => {
          const h = cur!;
          if (stopped && h.saved !== tr.step && tr.guard.consecutive === 0) await save(tr);
          h.progress?.stop();
          h.lock.release();
          cur = undefined;
          result.halvings.push({ dir: h.dir, studentSteps: n, step: tr.step, done: tr.step >= stepsPerHalving });
        },
      });
    }
  } finally {
    ctrlC.release();
    cur?.progress?.stop();
    cur?.lock.release();
    teacher.dispose();
    student.dispose();
  }
  result.signal = ctrlC.signal;
  result.interrupted = ctrlC.signal !== undefined;
  const lastDone = result.halvings.at(-1);
  if (result.halvings.length < halvings || !lastDone?.done) {
    if (lastDone && !lastDone.done) log(`stopped at step ${lastDone.step} of ${stepsPerHalving} in halving ${result.halvings.length}; run the same command again to continue`);
    else log(`stopped after halving ${result.halvings.length} of ${halvings}; run the same command again to continue`);
    return result;
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
