// Fault injection, files and processes: two writers, a torn metrics line, NaN, hostile and corrupt
// files, bad flags (nothing written before every check passes), sample names, absurd sizes.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { latest, metricSteps, poisonF32, readF32, run, start, tempDir, TINY, waitFor } from './cliProcess.js';

const files = (d: string) => (existsSync(d) ? readdirSync(d).sort() : []);

describe('fault injection: files, writers and sizes', () => {
  // One small finished run that several cases copy or read.
  let base: string;
  beforeAll(async () => {
    base = join(tempDir('base'), 'run');
    const r = await run('node', ['train', '--out', base, '--steps', '4', '--checkpoint-every', '2', ...TINY]);
    expect(r.code, r.output).toBe(0);
  }, 120_000);

  it('two writers: a second train on a folder in use refuses, naming the holder; starting together, exactly one wins', async () => {
    const root = tempDir('writers');
    const out = join(root, 'run');
    const a = start('node', ['train', '--out', out, '--steps', '400', '--checkpoint-every', '5', ...TINY]);
    await waitFor(() => (metricSteps(out).length >= 2 ? true : undefined), 'the first run to train', 90_000);
    const pid = a.child.pid!;
    const [resume, again] = await Promise.all([
      run('node', ['train', '--resume', out, '--steps', '500']),
      run('node', ['train', '--out', out, ...TINY]),
    ]);
    for (const r of [resume, again]) {
      expect(r.code).toBe(1);
      expect(r.output).toContain(`${out} is in use: pid`);
      expect(r.output).toContain(`on ${hostname()}`);
    }
    // The holder is the node process under the launcher: its pid is in the lock file.
    const lock = JSON.parse(readFileSync(join(out, 'lock'), 'utf8')) as { pid: number };
    expect(resume.output).toContain(`pid ${lock.pid} `);
    expect(lock.pid).toBe(pid);
    a.signal('SIGINT');
    const ra = await a.done;
    expect(ra.code).toBe(130);
    // One writer's metrics: steps strictly increasing, none twice.
    const steps = metricSteps(out);
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
    expect(new Set(steps).size).toBe(steps.length);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).demo.steps).toBe(400);

    // Two `train --out R2` started in the same moment: one trains, the other refuses.
    const out2 = join(root, 'run2');
    const both = await Promise.all([0, 1].map(() => run('node', ['train', '--out', out2, '--steps', '2', '--checkpoint-every', '2', ...TINY])));
    expect(both.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(both.find((r) => r.code === 1)!.output).toMatch(/is in use: pid \d+|already holds a run/);
    expect(new Set(metricSteps(out2)).size).toBe(metricSteps(out2).length);
  }, 200_000);

  it('a torn metrics line (power loss during an append) does not block the run', async () => {
    const out = join(tempDir('torn'), 'run');
    const r1 = await run('node', ['train', '--out', out, '--steps', '4', '--checkpoint-every', '2', '--validate-every', '2', ...TINY.filter((a, i, all) => a !== '--validate-every' && all[i - 1] !== '--validate-every')]);
    expect(r1.code, r1.output).toBe(0);
    appendFileSync(join(out, 'metrics.jsonl'), '{"step":5,"loss":0.12,"lr":0.0');
    const r2 = await run('node', ['train', '--resume', out, '--steps', '8', '--validate-every', '2']);
    expect(r2.code, r2.output).toBe(0);
    expect(latest(out)!.step).toBe(8);
    const steps = metricSteps(out);
    // Validation after the resume ran and was logged; every step after the resume is there.
    expect(steps).toEqual(expect.arrayContaining([6, 7, 8]));
    expect(existsSync(join(out, 'loss.png'))).toBe(true);
  }, 120_000);

  it('NaN: a diverging run never replaces its last finite checkpoint, and sample refuses non-finite weights', async () => {
    const out = join(tempDir('nan'), 'run');
    const r = await run('node', ['train', '--out', out, '--steps', '40', '--lr', '1', '--weight-decay', '10', '--warmup-steps', '0', '--lr-schedule', 'constant', '--checkpoint-every', '2', ...TINY]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/not finite|non-finite|NaN/i);
    const l = latest(out);
    expect(l, 'a checkpoint from before the divergence').toBeDefined();
    if (l) {
      // Whatever `latest` names holds finite weights, so the run can be sampled and resumed from it.
      const tensors = Object.values(readF32(readFileSync(join(l.dir, readdirSync(l.dir).find((f) => f.endsWith('.safetensors'))!))));
      expect(tensors.length).toBeGreaterThan(0);
      for (const t of tensors) expect(t.every(Number.isFinite)).toBe(true);
    }

    // A checkpoint whose weights hold NaN (as a diverged run would have written): sample refuses with a non-zero exit.
    const bad = join(tempDir('nanckpt'), 'run');
    copyRun(base, bad);
    const ck = latest(bad)!;
    const file = join(ck.dir, readdirSync(ck.dir).find((f) => f.endsWith('.safetensors'))!);
    const buf = readFileSync(file);
    expect(poisonF32(buf, (n) => n.includes('convIn.kernel'), NaN)).toBeGreaterThan(0);
    writeFileSync(file, buf);
    const top = join(bad, 'model.safetensors');
    if (existsSync(top)) {
      const b2 = readFileSync(top);
      poisonF32(b2, (n) => n.includes('convIn.kernel'), NaN);
      writeFileSync(top, b2);
    }
    const s = await run('node', ['sample', '--checkpoint', bad, '--steps', '2', '--n', '1']);
    expect(s.code).not.toBe(0);
    expect(s.output).toMatch(/convIn\.kernel/);
    expect(s.output).toMatch(/NaN or Inf/);
    expect(files(join(bad, 'sampled')).filter((f) => f.endsWith('.png'))).toEqual([]);
  }, 200_000);

  it('hostile and corrupt files: the message names the file and the problem, and nothing is rewritten', async () => {
    const root = tempDir('hostile');
    // Corrupt config.json of a run: sample and resume name it; a failed resume leaves it as it was.
    for (const [what, content, msg] of [
      ['truncated', '{"demo": {"steps": 4', /config\.json: not valid JSON/],
      ['null', 'null', /config\.json: must hold a JSON object/],
      ['a string boolean', null, /classConditional must be true or false.*got "false"/],
    ] as const) {
      const r = join(root, `cfg-${what.replace(/ /g, '-')}`);
      copyRun(base, r);
      const cfg = join(r, 'config.json');
      const text = content ?? readFileSync(cfg, 'utf8').replace('"classConditional": true', '"classConditional": "false"');
      writeFileSync(cfg, text);
      const s = await run('node', ['sample', '--checkpoint', r, '--steps', '2', '--n', '1']);
      expect(s.code, what).toBe(1);
      expect(s.output).toMatch(msg);
      expect(s.output).toContain(cfg);
      const t = await run('node', ['train', '--resume', r, '--steps', '10']);
      expect(t.code).toBe(1);
      expect(t.output).toMatch(msg);
      expect(readFileSync(cfg, 'utf8')).toBe(text);
    }

    // Corrupt safetensors: truncated, and a header claiming 2^60 bytes. The resume that fails leaves config.json alone.
    for (const [what, mutate] of [
      ['truncated', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2))],
      ['a huge header length', (b: Buffer) => { const c = Buffer.from(b); c.writeBigUInt64LE(2n ** 60n, 0); return c; }],
    ] as const) {
      const r = join(root, `st-${what.replace(/ /g, '-')}`);
      copyRun(base, r);
      const ck = latest(r)!;
      const name = readdirSync(ck.dir).find((f) => f.endsWith('.safetensors'))!;
      const file = join(ck.dir, name);
      writeFileSync(file, mutate(readFileSync(file)));
      const cfgBefore = readFileSync(join(r, 'config.json'), 'utf8');
      const s = await run('node', ['sample', '--checkpoint', ck.dir, '--steps', '2', '--n', '1']);
      expect(s.code, what).toBe(1);
      expect(s.output).toContain(name);
      const t = await run('node', ['train', '--resume', r, '--steps', '10']);
      expect(t.code, what).toBe(1);
      expect(t.output).toContain(name);
      // --steps 10 would change config.json; the resume failed, so it did not.
      expect(readFileSync(join(r, 'config.json'), 'utf8')).toBe(cfgBefore);
      expect(existsSync(join(r, 'lock'))).toBe(false);
    }
  }, 240_000);

  it('a checkpoint missing one EMA tensor is refused, not silently sampled with the raw weights', async () => {
    const r = join(tempDir('ema'), 'run');
    copyRun(base, r);
    const ck = latest(r)!;
    const name = readdirSync(ck.dir).find((f) => f.endsWith('.safetensors'))!;
    const file = join(ck.dir, name);
    const buf = readFileSync(file);
    // Rename one EMA tensor in the header (same length, so every offset stays valid): the EMA set lacks it.
    const n = Number(buf.readBigUInt64LE(0));
    const header = buf.subarray(8, 8 + n).toString('utf8');
    const key = /"(ema\.[^"]*convIn\.kernel)"/.exec(header)![1]!;
    buf.write(header.replace(`"${key}"`, `"${key.replace('ema.', 'emq.')}"`), 8, 'utf8');
    writeFileSync(file, buf);
    const s = await run('node', ['sample', '--checkpoint', ck.dir, '--steps', '2', '--n', '1']);
    expect(s.code).toBe(1);
    expect(s.output).toContain('convIn.kernel');
    expect(files(join(r, 'sampled'))).toEqual([]);
  }, 120_000);

  it('nothing is written before every check passes; --out at a folder that is not a run is refused', async () => {
    const root = tempDir('checks');
    const cfgFile = join(root, 'c.json');
    writeFileSync(cfgFile, JSON.stringify({ regularizers: { emaDecay: 0.99 } }));
    const cases: [string[], RegExp][] = [
      [['--config', cfgFile], /--config .*c\.json: unknown field 'regularizers\.emaDecay'; did you mean 'regularizers\.ema'\?/],
      [['--threads', '64'], /threads 64 is more than the \d+ cores? of this machine; use at most \d+/],
      [['--batch-size', '0'], /--batch-size must be an integer in \[1, 65536\]; got '0'/],
      [['--model-overrides', '{"channels":[8,16]}'], /unknown option "channels"; did you mean 'blockOutChannels'\?/],
      [['--model-overrides', '{"normEps":-1}'], /normEps must be a number in \(0, 1\)/],
      [['--model-overrides', '{"blockOutChannels":[4096],"normNumGroups":8}'], /needs about [\d.]+ GB, more than .*4 GiB heap/],
      [['--model-overrides', '{"sampleSize":30000}'], /needs about [\d.]+ GB, more than/],
    ];
    for (const [flags, msg] of cases) {
      const out = join(root, `out-${flags.join('').replace(/\W/g, '').slice(0, 30)}`);
      const r = await run('node', ['train', '--out', out, ...TINY.filter((a, i, all) => !flags.includes(a) && !flags.includes(all[i - 1]!)), ...flags]);
      expect(r.code, flags.join(' ')).toBe(1);
      expect(r.output).toMatch(msg);
      expect(existsSync(out), `${flags.join(' ')} left ${out}`).toBe(false);
    }
    // An existing folder of the user's own: refused, untouched.
    const mine = join(root, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'metrics.jsonl'), 'my own notes\n');
    const r = await run('node', ['train', '--out', mine, ...TINY]);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`--out ${mine} is an existing folder that is not a run (it holds metrics.jsonl)`);
    expect(files(mine)).toEqual(['metrics.jsonl']);
    expect(readFileSync(join(mine, 'metrics.jsonl'), 'utf8')).toBe('my own notes\n');
  }, 200_000);

  it('sample names say what made them and never replace a file; absurd sizes are refused with the estimate', async () => {
    const r = join(tempDir('names'), 'run');
    copyRun(base, r);
    const common = ['sample', '--checkpoint', r, '--steps', '2', '--n', '1'];
    const outs = [
      await run('node', [...common, '--class', '3']),
      await run('node', [...common, '--class', '3', '--no-ema']),
      await run('node', [...common, '--class', '7']),
      await run('node', ['sample', '--checkpoint', join(r, 'checkpoints', 'ckpt-00000002'), '--steps', '2', '--n', '1', '--class', '3']),
      await run('node', [...common, '--class', '3']),
    ];
    for (const o of outs) expect(o.code, o.output).toBe(0);
    const written = files(join(r, 'sampled'));
    const pngs = written.filter((f) => f.endsWith('.png'));
    // Each grid has its caption file beside it, under the same name.
    expect(written.filter((f) => !f.endsWith('.png'))).toEqual(pngs.map((f) => f.replace(/\.png$/, '.json')));
    expect(pngs).toEqual([
      'step2-ema-class3-ddim-2steps-g3-none-seed0.png',
      'step4-ema-class3-ddim-2steps-g3-none-seed0-2.png',
      'step4-ema-class3-ddim-2steps-g3-none-seed0.png',
      'step4-ema-class7-ddim-2steps-g3-none-seed0.png',
      'step4-raw-class3-ddim-2steps-g3-none-seed0.png',
    ]);

    const big = await run('node', ['sample', '--checkpoint', r, '--n', '100000']);
    expect(big.code).toBe(1);
    expect(big.output).toMatch(/--n 100000 × 10 classes asks for 1,000,000 images \(10 rows of 100,000\): [\d.]+ GB of pixels and a [\d.]+ GB grid PNG/);
    expect(files(join(r, 'sampled'))).toEqual(written);
  }, 200_000);

  it('pnpm … run cli resolves paths from where the command was typed and prints the backend once', async () => {
    const parent = tempDir('cwd');
    copyRun(base, join(parent, 'runs', 'x'));
    const r = await run('pnpm-cli', ['sample', '--checkpoint', 'runs/x', '--steps', '2', '--n', '1', '--class', '1'], { cwd: parent });
    expect(r.code, r.output).toBe(0);
    expect(files(join(parent, 'runs', 'x', 'sampled'))).toEqual(['step4-ema-class1-ddim-2steps-g3-none-seed0.json', 'step4-ema-class1-ddim-2steps-g3-none-seed0.png']);
    expect(r.output.split('\n').filter((l) => /^(@tfjs-diffusion\/)?backend:/.test(l))).toHaveLength(1);
  }, 120_000);
});

function copyRun(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const a = join(from, e.name);
    const b = join(to, e.name);
    if (e.isDirectory()) copyRun(a, b);
    else writeFileSync(b, readFileSync(a));
  }
}
