import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { deepMerge, resolveConfig } from '../src/config.js';
import { PRESETS, presetConfig } from '../src/presets.js';
import { createProgram, main } from '../src/cli.js';

describe('config merging', () => {
  it('takes the preset, then the config file, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ preset: 'mnist', steps: 77, regularizers: { dropout: 0.2, ema: 0.5 }, sampler: { name: 'heun' } }));
    const c = resolveConfig({ configFile: file, overrides: { 'regularizers.ema': 0.9, 'sampler.threshold': 'dynamic' } });
    expect(c.preset).toBe('mnist');
    expect(c.model.preset).toBe('mnist-ref'); // from the mnist preset
    expect(c.steps).toBe(77); // file over preset
    expect(c.regularizers.dropout).toBe(0.2); // file
    expect(c.regularizers.ema).toBe(0.9); // flag over file
    expect(c.regularizers.weightDecay).toBe(0.01); // untouched preset value survives the nested merge
    expect(c.sampler.name).toBe('heun');
    expect(c.sampler.threshold).toBe('dynamic');
    expect(c.augmentShift).toBe(1);
  });

  it('an explicit --preset wins over the file\'s preset field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ preset: 'mnist' }));
    expect(resolveConfig({ preset: 'fashion-mnist', configFile: file }).dataset).toBe('fashion-mnist');
  });

  it('names the bad field and what it accepts', () => {
    expect(() => resolveConfig({ overrides: { 'sampler.name': 'plms' } })).toThrow(
      "sampler.name must be one of 'ddim', 'ddpm', 'euler', 'euler-a', 'heun', 'dpmpp-2m', 'pndm', 'lms', 'unipc', 'flow-euler', 'flow-heun'; got \"plms\"",
    );
    expect(() => resolveConfig({ overrides: { steps: 0 } })).toThrow('steps must be an integer >= 1; got 0');
    expect(() => resolveConfig({ preset: 'cifar' })).toThrow("preset must be one of 'mnist-tiny', 'mnist', 'fashion-mnist', 'emoji-tiny', 'emoji'; got 'cifar'");
  });

  it('deepMerge replaces arrays and leaves the target untouched', () => {
    const a = { x: { y: [1, 2], z: 1 } };
    const m = deepMerge(a, { x: { y: [3] } });
    expect(m).toEqual({ x: { y: [3], z: 1 } });
    expect(a.x.y).toEqual([1, 2]);
  });

  it('presets: mnist is class-conditional with EMA, dropout, weight decay and augmentation on the reference U-Net', () => {
    const m = presetConfig('mnist');
    expect(m.model.preset).toBe('mnist-ref');
    expect(m.classConditional).toBe(true);
    expect(m.regularizers.ema).toBeGreaterThan(0);
    expect(m.regularizers.dropout).toBeGreaterThan(0);
    expect(m.regularizers.weightDecay).toBeGreaterThan(0);
    expect(m.augmentShift).toBeGreaterThan(0);
    expect(presetConfig('fashion-mnist').dataset).toBe('fashion-mnist');
    expect(Object.keys(PRESETS).sort()).toEqual(['emoji', 'emoji-tiny', 'fashion-mnist', 'mnist', 'mnist-tiny']);
  });

  it('presets: emoji-tiny is 32 px Google emoji, class-conditional, with an exportable U-Net (time features = first level, embedding = 4×)', () => {
    for (const name of ['emoji-tiny', 'emoji']) {
      const e = presetConfig(name);
      expect(e).toMatchObject({ dataset: 'emoji-google', resolution: 32, classConditional: true });
      const o = e.model.overrides as { blockOutChannels: number[]; timeFeatureDim: number; embedDim: number };
      expect(o.timeFeatureDim).toBe(o.blockOutChannels[0]);
      expect(o.embedDim).toBe(4 * o.blockOutChannels[0]!);
    }
    // mnist-tiny, the README's demo, is as it was.
    expect(presetConfig('mnist-tiny')).toMatchObject({ dataset: 'mnist', steps: 900, batchSize: 32 });
    expect(presetConfig('mnist-tiny').resolution).toBeUndefined();
  });
});

describe('cli', () => {
  it('reads the flags after the `--` that `pnpm run cli -- <command>` passes on', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((m: string) => { errors.push(m); });
    try {
      await main(['node', 'cli.ts', '--', 'sample', '--checkpoint', join(tmpdir(), 'no-such-run-folder')]);
    } finally {
      spy.mockRestore();
      process.exitCode = 0;
    }
    expect(errors.join('\n')).not.toMatch(/required option/);
    expect(errors.join('\n')).toMatch(/no-such-run-folder/);
  });
  it.each<[string, string[], string]>([
    ['eval --guidance -1', ['eval', '--guidance', '-1'], "--guidance must be a number in [0, 100]; got '-1'"],
    ['distill --guidance -5', ['distill', '--halvings', '1', '--out', 'x', '--guidance', '-5'], "--guidance must be a number in [0, 100]; got '-5'"],
    ['distill --lr 1e9', ['distill', '--halvings', '1', '--out', 'x', '--lr', '1e9'], "--lr must be a number in [1e-8, 1]; got '1e9'"],
    ['distill --eval-n -1', ['distill', '--halvings', '1', '--out', 'x', '--eval-n', '-1'], "--eval-n (0 = no table) must be an integer in [1, 10000000]; got '-1'"],
    ['sample --seed 2^32', ['sample', '--seed', '4294967296'], "--seed must be an integer in [0, 4294967295]; got '4294967296'"],
    ['sample --seed -1', ['sample', '--seed', '-1'], "--seed must be an integer in [0, 4294967295]; got '-1'"],
    ['sample --seed 1.5', ['sample', '--seed', '1.5'], "--seed must be an integer in [0, 4294967295]; got '1.5'"],
    ['sample --eta 5', ['sample', '--eta', '5'], "--eta must be a number in [0, 1]; got '5'"],
    ['sample --n 0', ['sample', '--n', '0'], "--n must be an integer in [1, 10000000]; got '0'"],
    ["sample --class ''", ['sample', '--class', ''], "--class must be comma-separated class indices or names, e.g. 3 or 0,7; got ''"],
    ['sample --class 1,,2', ['sample', '--class', '1,,2'], '--class must be comma-separated class indices or names'],
    ['train --seed 2^32', ['train', '--seed', '4294967296'], "--seed must be an integer in [0, 4294967295]; got '4294967296'"],
    ['train --batch-size 0', ['train', '--batch-size', '0'], "--batch-size must be an integer in [1, 65536]; got '0'"],
  ])('%s is refused by the one table of ranges before the run is read', async (_, args, message) => {
    const errors: string[] = [];
    const program = createProgram().exitOverride();
    for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: (m) => errors.push(m) });
    const missing = join(tmpdir(), 'no-such-run-folder');
    await expect(program.parseAsync(['node', 'cli', ...args, ...(args[0] === 'train' ? [] : ['--checkpoint', missing])])).rejects.toThrow();
    expect(errors.join('')).toContain(message);
    expect(errors.join('')).not.toContain('no-such-run-folder');
  });

  it('every command has --help and every option shows a default', () => {
    const program = createProgram();
    const names = program.commands.map((c) => c.name()).sort();
    expect(names).toEqual(['distill', 'eval', 'export', 'fine-tune', 'sample', 'train']);
    for (const cmd of program.commands) {
      const help = cmd.helpInformation();
      expect(help).toContain('--help');
      for (const opt of cmd.options) {
        if (opt.mandatory) continue; // --checkpoint, export's --out: required, no default
        if (opt.negate) {
          expect(cmd.helpInformation()).toMatch(/default: EMA weights/);
          continue;
        }
        expect(opt.defaultValue !== undefined || opt.defaultValueDescription !== undefined, `${cmd.name()} ${opt.long}`).toBe(true);
      }
    }
  });
});

describe('config files are checked against the schema, naming the file, the field and what it accepts', () => {
  const file = (content: string) => {
    const f = join(mkdtempSync(join(tmpdir(), 'demo-schema-')), 'c.json');
    writeFileSync(f, content);
    return f;
  };
  it.each<[string, string, string]>([
    ['a string for a boolean', '{"classConditional": "false"}', ': classConditional must be true or false (a JSON boolean, not a string); got "false"'],
    ['an unknown key', '{"regularizers": {"emaDecay": 0.9}}', ": unknown field 'regularizers.emaDecay'; did you mean 'regularizers.ema'?"],
    ['a top-level typo', '{"stpes": 10}', ": unknown field 'stpes'; did you mean 'steps'?"],
    ['__proto__', '{"__proto__": {"steps": 1}}', ": unknown field '__proto__'"],
    ['null', 'null', ': must hold a JSON object of DemoConfig fields; got null'],
    ['truncated JSON', '{"steps": 5', ': not valid JSON'],
    ['a value out of range', '{"regularizers": {"dropout": 2}}', ': regularizers.dropout must be a number in [0, 0.99]; got 2'],
    ['an unknown sampler', '{"sampler": {"name": "plms"}}', ": sampler.name must be one of 'ddim', 'ddpm', 'euler', 'euler-a', 'heun', 'dpmpp-2m', 'pndm', 'lms', 'unipc', 'flow-euler', 'flow-heun'; got \"plms\""],
  ])('refuses %s', (_, content, msg) => {
    const f = file(content);
    expect(() => resolveConfig({ configFile: f })).toThrow(`--config ${f}${msg}`);
    expect(({} as Record<string, unknown>).steps).toBeUndefined();
  });

  it('a flag value is blamed on the flag', () => {
    expect(() => resolveConfig({ overrides: { 'regularizers.weightDecay': 11 } })).toThrow('--weight-decay: regularizers.weightDecay must be a number in [0, 10]; got 11');
  });

  it("--model-overrides' help example is a valid override", async () => {
    const help = createProgram().commands.find((c) => c.name() === 'train')!.options.find((o) => o.long === '--model-overrides')!.description;
    const example = JSON.parse(/'(\{.*\})'/.exec(help)![1]!) as Record<string, unknown>;
    const { modelConfig } = await import('../src/build.js');
    expect(() => modelConfig(resolveConfig({ overrides: { 'model.overrides': example } }), 10)).not.toThrow();
  });
});
