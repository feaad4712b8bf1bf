// Fault injection, hostile inputs: files and flags built to hang, exhaust memory or flood the
// terminal get a short message naming their source before any work.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { isDiffusersFolder } from '../src/diffusersFolder.js';
import { readRunConfig } from '../src/runFolder.js';

const dir = (p: string) => mkdtempSync(join(tmpdir(), `demo-hostile-${p}-`));
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('hostile files: bounded, named messages', () => {
  it('a config nested 100,000 levels deep is refused by name, not with a stack overflow', () => {
    const d = dir('deep');
    const file = join(d, 'c.json');
    writeFileSync(file, `{"model": {"overrides": {"x": ${deep(100_000)}}}}`);
    expect(() => resolveConfig({ configFile: file })).toThrow(`--config ${file}: nested more than 64 levels deep`);
    const run = join(d, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'config.json'), `{"demo": ${deep(100_000)}}`);
    expect(() => readRunConfig(run)).toThrow(`${join(run, 'config.json')}: nested more than 64 levels deep`);
  });

  it('a run config.json holding a 10 MB array is quoted in a few hundred characters', () => {
    const run = dir('big');
    writeFileSync(join(run, 'config.json'), JSON.stringify(Array.from({ length: 1_000_000 }, () => 1234567)));
    let message = '';
    try { readRunConfig(run); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/must hold a JSON object with demo, model and dataset; got \[1234567, 1234567, .*more\]$/);
    expect(message.length).toBeLessThan(400);
  });

  it("a diffusers folder whose config.json is not JSON says so, instead of 'not a run folder'", () => {
    const d = dir('diffusers');
    writeFileSync(join(d, 'config.json'), '{"_class_name": "UNet2DModel", ');
    writeFileSync(join(d, 'diffusion_pytorch_model.safetensors'), '');
    expect(() => isDiffusersFolder(d)).toThrow(new RegExp(`${join(d, 'config.json').replace(/[/.]/g, '\\$&')}: not valid JSON .*the folder holds diffusion_pytorch_model\\.safetensors`));
    const plain = dir('plain');
    writeFileSync(join(plain, 'config.json'), 'not json');
    expect(isDiffusersFolder(plain)).toBe(false);
  });
});

describe('sample checks where it writes before sampling', () => {
  it('a file as --out, a path through a file and a name too long are refused before any sampling, naming --out', async () => {
    const { run, tempDir, TINY } = await import('./cliProcess.js');
    const root = tempDir('out');
    const r = join(root, 'run');
    const t = await run('node', ['train', '--out', r, '--steps', '2', '--checkpoint-every', '2', ...TINY]);
    expect(t.code, t.output).toBe(0);
    const file = join(root, 'a-file.png');
    writeFileSync(file, 'mine');
    const long = join(root, 'x'.repeat(300));
    for (const [out, msg] of [
      [file, `--out ${file} is a file, not a folder`],
      [join(file, 'sub'), `--out ${join(file, 'sub')}: cannot write the images there (ENOTDIR`],
      [long, `--out ${long}: cannot write the images there (ENAMETOOLONG`],
    ] as const) {
      const s = await run('node', ['sample', '--checkpoint', r, '--steps', '2', '--n', '1', '--out', out]);
      expect(s.code, s.output).toBe(1);
      expect(s.output).toContain(msg);
      expect(s.output).not.toMatch(/sample .*images/); // no progress: nothing was sampled
    }
  }, 240_000);
});

describe('limits are checked first, naming their source', () => {
  const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/diffusers-unet-tiny');
  const hostile = (edit: (config: Record<string, unknown>) => void, scheduler?: Record<string, unknown>) => {
    const d = dir('limits');
    const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as Record<string, unknown>;
    edit(config);
    writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    copyFileSync(join(FIXTURE, 'diffusion_pytorch_model.safetensors'), join(d, 'diffusion_pytorch_model.safetensors'));
    if (scheduler) writeFileSync(join(d, 'scheduler_config.json'), JSON.stringify(scheduler));
    return d;
  };

  it('a diffusers num_class_embeds of 2^24 + 1 and a num_train_timesteps of 1e8 are refused in moments, naming the file and the key', async () => {
    const { run } = await import('./cliProcess.js');
    const classes = hostile((c) => { c.num_class_embeds = 2 ** 24 + 1; });
    const steps = hostile(() => {}, { _class_name: 'DDPMScheduler', num_train_timesteps: 1e8 });
    for (const [d, msg] of [
      [classes, new RegExp(`${classes.replace(/[/.]/g, '\\$&')}.*config\\.json: (the model: sampling|building) this U-Net \\(.*16,777,216 classes\\)`)],
      [steps, new RegExp(`${join(steps, 'scheduler_config.json').replace(/[/.]/g, '\\$&')}: num_train_timesteps must be an integer in \\[2, 100000\\]; got 100000000`)],
    ] as const) {
      const t0 = performance.now();
      const s = await run('node', ['sample', '--checkpoint', d, '--steps', '2', '--n', '1']);
      expect(s.code, s.output).toBe(1);
      expect(s.output).toMatch(msg);
      expect(s.output).not.toContain('--n');
      // The CLI's own start-up (tsx, tfjs) is most of it.
      expect(performance.now() - t0).toBeLessThan(30_000);
    }
  }, 120_000);

  it("train refuses --grid-cols 100000 before anything is written, as sample refuses --n", async () => {
    const { run, tempDir, TINY } = await import('./cliProcess.js');
    const out = join(tempDir('grid'), 'run');
    const s = await run('node', ['train', '--out', out, '--steps', '1', ...TINY, '--grid-cols', '100000']);
    expect(s.code, s.output).toBe(1);
    expect(s.output).toMatch(/--grid-cols 100000 × 10 classes asks for 1,000,000 images .*; ask for fewer images/);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
