/**
 * Flow matching against ε-prediction at the same budget: two class-conditional MNIST models trained
 * by the demo (`cli train`) with the same preset, steps, batch and seed, one `--prediction epsilon`
 * (sampled with DDIM) and one `--objective flow` (sampled with flow-matching Euler); at each sampler
 * step count the Fréchet distance on the evaluation classifier's features against held-out digits
 * (`cli eval`). Rows already in the table for other step counts or budgets are kept (a rerun merges).
 *
 *   npx tsx --conditions=source apps/experiments/src/flow-vs-epsilon.ts --steps 900
 *   (env: PRESET=mnist-tiny, STEP_COUNTS=1,2,4,10,25,50, EVAL_N=20 per class, THRESHOLD=clip|none|dynamic (default clip),
 *    RUN_DIR=runs/flow-vs-epsilon)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linePlotPng } from '@tfjs-diffusion/viz/node';
import { markdownTable, resultsDir, stepBudget, writeJsonResult, writeResult } from './common.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'apps', 'demo', 'src', 'cli.ts');
const tsx = join(root, 'apps', 'experiments', 'node_modules', '.bin', 'tsx');
const preset = process.env.PRESET ?? 'mnist-tiny';
const trainSteps = stepBudget(900);
const stepCounts = (process.env.STEP_COUNTS ?? '1,2,4,10,25,50').split(',').map(Number);
const evalN = Number(process.env.EVAL_N ?? 20);
const threshold = process.env.THRESHOLD ?? 'clip';
const runDir = resolve(process.env.RUN_DIR ?? join(root, 'runs', 'flow-vs-epsilon'));

const run = (args: string[]) => {
  process.stderr.write(`$ cli ${args.join(' ')}\n`);
  execFileSync(tsx, ['--conditions=source', cli, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
};

interface Row { model: string; sampler: string; threshold: string; trainSteps: number; steps: number; frechetDistance: number }
const MODELS = [
  { model: 'epsilon', sampler: 'ddim', flags: ['--prediction', 'epsilon'] },
  { model: 'flow', sampler: 'flow-euler', flags: ['--objective', 'flow'] },
];

const jsonPath = join(resultsDir, 'flow-vs-epsilon.json');
const old: Row[] = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as { rows: Row[] }).rows.map((r) => ({ ...r, threshold: r.threshold ?? 'none' })) : [];
const fresh: Row[] = [];
for (const m of MODELS) {
  const dir = join(runDir, `${preset}-${m.model}`);
  // An existing run is continued up to the budget, not retrained.
  if (existsSync(join(dir, 'config.json'))) run(['train', '--resume', dir, '--steps', String(trainSteps)]);
  else run(['train', '--preset', preset, '--steps', String(trainSteps), ...m.flags, '--out', dir]);
  for (const steps of stepCounts) {
    const out = join(dir, `eval-${m.sampler}-${threshold}-${steps}`);
    run(['eval', '--checkpoint', dir, '--sampler', m.sampler, '--steps', String(steps), '--n', String(evalN), '--threshold', threshold, '--out', out]);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    const fd = /\| Fréchet distance[^|]*\| ([0-9.]+|NaN|Infinity) \|/.exec(report);
    if (!fd) throw new Error(`no Fréchet distance in ${join(out, 'report.md')}`);
    fresh.push({ model: m.model, sampler: m.sampler, threshold, trainSteps, steps, frechetDistance: Number(fd[1]) });
  }
}
const key = (r: Row) => `${r.model}/${r.sampler}/${r.threshold}/${r.trainSteps}/${r.steps}`;
const rows = [...old.filter((r) => !fresh.some((f) => key(f) === key(r))), ...fresh].sort(
  (a, b) => a.trainSteps - b.trainSteps || a.threshold.localeCompare(b.threshold) || a.model.localeCompare(b.model) || a.steps - b.steps,
);

await writeResult('flow-vs-epsilon.png', linePlotPng({
  title: `Fréchet distance vs sampler steps (${preset}, ${trainSteps} training steps, threshold ${threshold})`, xLabel: 'log2 sampler steps', yLabel: 'Fréchet distance', width: 640, height: 400,
  series: MODELS.map((m) => {
    const r = rows.filter((x) => x.model === m.model && x.threshold === threshold && x.trainSteps === trainSteps).sort((a, b) => a.steps - b.steps);
    return { name: `${m.model} (${m.sampler})`, x: r.map((x) => Math.log2(x.steps)), y: r.map((x) => x.frechetDistance) };
  }),
}));
const command = `THRESHOLD=${threshold} EVAL_N=${evalN} npx tsx --conditions=source apps/experiments/src/flow-vs-epsilon.ts --steps ${trainSteps}`;
await writeJsonResult('flow-vs-epsilon', { command, preset, evalN, rows });
const md = [
  '# Flow matching against ε-prediction: Fréchet distance vs sampler steps',
  '',
  `Command: \`${command}\`. Both models: \`cli train --preset ${preset}\` with the same steps, batch and seed; ε: \`--prediction epsilon\`, sampled with DDIM (trailing grid); flow: \`--objective flow\` (logit-normal σ, no weighting), sampled with flow-matching Euler. Guidance as the preset's grids.`,
  `Evaluation: \`cli eval --n ${evalN} --threshold <x0 threshold>\` (per class): Fréchet distance on the evaluation classifier's features against held-out digits (lower is better).`,
  '',
  markdownTable(['training steps', 'x0 threshold', 'model', 'sampler', 'sampler steps', 'Fréchet distance'], rows.map((r) => [r.trainSteps, r.threshold, r.model, r.sampler, r.steps, r.frechetDistance])),
  '',
].join('\n');
await writeResult('flow-vs-epsilon.md', md);
console.log(md);
