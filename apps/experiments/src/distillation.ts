/**
 * Progressive distillation (Salimans & Ho 2022) of a class-conditional MNIST
 * model: a teacher trained by the demo (`cli train`), distilled by `cli
 * distill` from 64 guided DDIM steps down to 4 (4 halvings); at each step
 * count the evaluation classifier's accuracy on the samples' classes and the
 * Fréchet distance on its features, for the student and for the teacher
 * sampled with plain DDIM at the same step count.
 *
 *   npx tsx --conditions=source apps/experiments/src/distillation.ts --steps 1250 --steps-per-halving 2000
 *   (env: PRESET=mnist|mnist-tiny (default mnist), TEACHER=<run folder> to skip training, HALVINGS=4, TEACHER_STEPS=64,
 *    EVAL_N=20 per class, RUN_DIR=runs/distillation; flags: --steps = teacher training steps, --steps-per-halving)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linePlotPng } from '@tfjs-diffusion/viz/node';
import { markdownTable, stepBudget, writeJsonResult, writeResult } from './common.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'apps', 'demo', 'src', 'cli.ts');
const tsx = join(root, 'apps', 'experiments', 'node_modules', '.bin', 'tsx');
const preset = process.env.PRESET ?? 'mnist';
const teacherTrainSteps = stepBudget(1250);
const stepsPerHalving = stepBudget(2000, 'steps_per_halving');
const halvings = Number(process.env.HALVINGS ?? 4);
const teacherSteps = Number(process.env.TEACHER_STEPS ?? 64);
const evalN = Number(process.env.EVAL_N ?? 20);
const runDir = resolve(process.env.RUN_DIR ?? join(root, 'runs', 'distillation'));
const extra = (process.env.EXTRA_TRAIN_FLAGS ?? '').split(' ').filter(Boolean);
const extraDistill = (process.env.EXTRA_DISTILL_FLAGS ?? '').split(' ').filter(Boolean);

const run = (args: string[]) => {
  process.stderr.write(`$ cli ${args.join(' ')}\n`);
  execFileSync(tsx, ['--conditions=source', cli, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
};

let teacher = process.env.TEACHER;
if (!teacher) {
  teacher = join(runDir, 'teacher');
  // An existing teacher run is continued (`--resume`) up to the budget, not retrained.
  if (existsSync(join(teacher, 'config.json'))) run(['train', '--resume', teacher, '--steps', String(teacherTrainSteps), ...extra]);
  else run(['train', '--preset', preset, '--steps', String(teacherTrainSteps), '--prediction', 'v', '--out', teacher, ...extra]);
}
const out = join(runDir, 'students');
run([
  'distill', '--checkpoint', teacher, '--halvings', String(halvings), '--teacher-steps', String(teacherSteps),
  '--steps-per-halving', String(stepsPerHalving), '--eval-n', String(evalN), '--out', out, ...extraDistill,
]);
const table = JSON.parse(readFileSync(join(out, 'distill.json'), 'utf8')) as {
  guidance: number; batchSize: number;
  rows: { steps: number; model: string; classifierAccuracy?: number; frechetDistance: number }[];
};
const rows = table.rows;
const series = (model: string, key: 'classifierAccuracy' | 'frechetDistance') => {
  const r = rows.filter((x) => x.model === model).sort((a, b) => a.steps - b.steps);
  return { name: model, x: r.map((x) => Math.log2(x.steps)), y: r.map((x) => x[key] ?? NaN) };
};
await writeResult('distillation.png', linePlotPng({
  title: 'Progressive distillation: classifier accuracy vs DDIM steps', xLabel: 'log2 sampling steps', yLabel: 'classifier accuracy', width: 640, height: 400,
  series: [series('student', 'classifierAccuracy'), series('teacher (DDIM)', 'classifierAccuracy')],
}));
await writeResult('distillation-frechet.png', linePlotPng({
  title: 'Progressive distillation: Fréchet distance vs DDIM steps', xLabel: 'log2 sampling steps', yLabel: 'Fréchet distance', width: 640, height: 400,
  series: [series('student', 'frechetDistance'), series('teacher (DDIM)', 'frechetDistance')],
}));
const command = `npx tsx --conditions=source apps/experiments/src/distillation.ts --steps ${teacherTrainSteps} --steps-per-halving ${stepsPerHalving}`;
// the teacher's folder as the printed command names it, never a path of this machine
const source = process.env.TEACHER ? '<run>' : relative(root, teacher);
await writeJsonResult('distillation', { command, preset, teacherTrainSteps, stepsPerHalving, halvings, teacherSteps, evalN, ...table, source });
// the environment that shaped the run, so the printed command reproduces it
const envPrefix = ['PRESET', 'TEACHER', 'HALVINGS', 'TEACHER_STEPS', 'EVAL_N', 'EXTRA_TRAIN_FLAGS', 'EXTRA_DISTILL_FLAGS']
  .filter((k) => process.env[k])
  .map((k) => (k === 'TEACHER' ? 'TEACHER=<run>' : `${k}=${/\s/.test(process.env[k]!) ? `'${process.env[k]}'` : process.env[k]}`))
  .join(' ');
const md = [
  `# Progressive distillation: a ${teacherSteps}-step DDIM teacher down to ${teacherSteps / 2 ** halvings} steps`,
  '',
  `Command: \`${envPrefix ? `${envPrefix} ` : ''}${command}\`.`,
  `Teacher: ${process.env.TEACHER ? `the run given by TEACHER (${preset})` : `\`cli train --preset ${preset} --steps ${teacherTrainSteps} --prediction v\` (class-conditional, label dropout for guidance)`}, sampled with ${teacherSteps} DDIM steps ('trailing' grid) at guidance ${table.guidance}${table.guidance === 1 ? ' (the conditional model, no extra guidance)' : ''}.`,
  `Students: \`cli distill --halvings ${halvings} --teacher-steps ${teacherSteps} --steps-per-halving ${stepsPerHalving}${extraDistill.length ? ` ${extraDistill.join(' ')}` : ''}\` (Salimans & Ho 2022, Algorithm 2: the target is two teacher steps, with the teacher's guidance in the first halving only, truncated-SNR weighting, EMA; batch ${table.batchSize}), each sampled unguided with its own step count.`,
  `Evaluation: ${evalN} samples per class; accuracy of the evaluation classifier on the classes asked for, Fréchet distance on its features against held-out digits.`,
  '',
  markdownTable(['DDIM steps', 'model', 'classifier accuracy', 'Fréchet distance'], rows.map((r) => [r.steps, r.model, r.classifierAccuracy ?? '-', r.frechetDistance])),
  '',
  'Target: the 4-step student within 0.1 of the 64-step teacher\'s accuracy, and clearly above the teacher\'s own 4-step DDIM.',
  '',
  'Plots: `distillation.png` (accuracy), `distillation-frechet.png` (Fréchet distance).',
  '',
].join('\n');
await writeResult('distillation.md', md);
console.log(md);
