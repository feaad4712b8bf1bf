// Fault injection, hostile inputs: files and flags built to hang, exhaust memory or flood the
// terminal get a short message naming their source before any work.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
