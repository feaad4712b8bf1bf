// Each experiment script at a tiny budget, writing into a temporary RESULTS_DIR
// (the committed tables in results/ are never touched): it must produce its
// table (markdown + JSON) and its plot.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(app, 'node_modules', '.bin', 'tsx');

function runScript(script: string, env: Record<string, string>, args: string[] = [], into?: string): string {
  const dir = into ?? mkdtempSync(join(tmpdir(), `exp-${script}-`));
  try {
    execFileSync(tsx, ['--conditions=source', join(app, 'src', `${script}.ts`), ...args], {
      cwd: app, env: { ...process.env, RESULTS_DIR: dir, ...env }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 900_000,
    });
  } catch (e) {
    // the wasm backend prints its whole source with an uncaught error: keep the end
    throw new Error(`${script} failed: ${String((e as { stderr?: Buffer }).stderr ?? e).slice(-1500)}`);
  }
  return dir;
}

const table = (dir: string, name: string) => {
  expect(existsSync(join(dir, `${name}.png`)), `${name}.png`).toBe(true);
  expect(readFileSync(join(dir, `${name}.md`), 'utf8')).toMatch(/^# /);
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
};

describe('experiment scripts at a tiny budget', () => {
  it('memorization-vs-n (MLPDenoiser on a circle)', () => {
    const dir = runScript('memorization-vs-n', { SIZES: '4,16', NUM_SAMPLES: '8' }, ['--steps', '3']);
    const t = table(dir, 'memorization-vs-n');
    expect(t.steps).toBe(3);
    expect(t.rows.map((r: { network: string; n: number }) => [r.network, r.n])).toEqual([['conditioned', 4], ['conditioned', 16], ['unconditioned', 4], ['unconditioned', 16]]);
  }, 900_000);

  it('transfer (MLPDenoiser, MNIST → Fashion-MNIST)', () => {
    const dir = runScript('transfer', {}, ['--steps', '2', '--pretrain-steps', '2']);
    const t = table(dir, 'transfer');
    expect(t.rows.length).toBeGreaterThan(1);
    expect(t.rows.every((r: { tunedLoss: number; scratchLoss: number }) => Number.isFinite(r.tunedLoss) && Number.isFinite(r.scratchLoss))).toBe(true);
  }, 900_000);

  it('lora (mnist-tiny, full fine-tuning against LoRA adapters)', () => {
    const dir = runScript('lora', {}, ['--steps', '2']);
    const t = table(dir, 'lora');
    expect(t.results.map((r: { arm: string }) => r.arm)).toEqual(['full fine-tuning', 'LoRA r=4 (conv1, conv2, time_emb_proj)', 'LoRA r=4, lr × 4']);
    for (const r of t.results) expect(r.curve.every((p: { loss: number }) => Number.isFinite(p.loss))).toBe(true);
    expect(t.results[1].trained).toBeLessThan(t.results[0].trained);
  }, 900_000);

  it('memorization-unet (U-Net sweep, conditioned and timeConditioning: false; a sweep continues)', () => {
    const tiny = { NUM_SAMPLES: '4', SAMPLE_STEPS: '2', LOSS_IMAGES: '8' };
    // The sweep split over two calls: the second keeps the first's row and adds its own.
    const dir = runScript('memorization-unet', { ...tiny, SIZES: '16', NETS: 'unconditioned' }, ['--steps', '2']);
    const first = table(dir, 'memorization-unet').rows[0];
    runScript('memorization-unet', { ...tiny, SIZES: '16,all' }, ['--steps', '2'], dir);
    const t = table(dir, 'memorization-unet');
    expect(t.rows.map((r: { network: string; n: number }) => [r.network, r.n])).toEqual([['conditioned', 16], ['conditioned', 9000], ['unconditioned', 16], ['unconditioned', 9000]]);
    expect(t.rows[2]).toEqual(first);
    for (const r of t.rows) {
      expect(r.memorizationRate).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(r.trainLoss) && Number.isFinite(r.heldOutLoss) && r.meanNearestDistance > 0).toBe(true);
    }
    expect(existsSync(join(dir, 'memorization-unet-neighbours-unconditioned-n9000.png'))).toBe(true);
  }, 900_000);

  it('distillation (cli train + cli distill)', () => {
    const runs = mkdtempSync(join(tmpdir(), 'exp-distill-runs-'));
    const dir = runScript('distillation', {
      PRESET: 'mnist-tiny', HALVINGS: '1', TEACHER_STEPS: '4', EVAL_N: '1', RUN_DIR: runs,
      EXTRA_TRAIN_FLAGS: '--batch-size 4 --train-size 200 --val-size 16 --model-overrides {"blockOutChannels":[8,8],"normNumGroups":4} --sample-steps 2 --grid-cols 1 --validate-every 2 --sample-every 2 --checkpoint-every 2',
      EXTRA_DISTILL_FLAGS: '--batch-size 4 --classifier-epochs 1 --classifier-train-size 200',
    }, ['--steps', '2', '--steps-per-halving', '1']);
    const t = table(dir, 'distillation');
    expect(t.rows.map((r: { steps: number; model: string }) => [r.steps, r.model])).toEqual([[4, 'teacher (DDIM)'], [2, 'student'], [2, 'teacher (DDIM)']]);
    expect(existsSync(join(dir, 'distillation-frechet.png'))).toBe(true);
  }, 900_000);
});
