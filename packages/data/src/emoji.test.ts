import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { emojiDataset, split, type EmojiDataset, type EmojiEntry } from './index.js';
import { loadEmoji } from './node.js';
import { rgbaPng } from './testing/png.js';

const require = createRequire(import.meta.url);
const entries = (vendor: string) => JSON.parse(readFileSync(require.resolve(`emoji-datasource-${vendor}/emoji.json`), 'utf8')) as EmojiEntry[];
const BLANK = rgbaPng(64, 64, new Array(64 * 64 * 4).fill(0));
const googleImage = (image: string) => new Uint8Array(readFileSync(require.resolve(`emoji-datasource-google/img/google/64/${image}`)));

// Counts of emoji.json v16 (google), Component left out.
const PER_CATEGORY = {
  'Smileys & Emotion': 169, 'People & Body': 386, 'Animals & Nature': 159, 'Food & Drink': 131, 'Travel & Places': 218,
  Activities: 85, Objects: 264, Symbols: 224, Flags: 270,
};

describe('emoji from npm', () => {
  let all: EmojiDataset;
  beforeAll(async () => {
    all = await loadEmoji({ size: 32, skinTones: true });
  }, 300_000);

  it('has every base emoji by category and each skin-tone variant with its base', () => {
    expect(all.shape).toEqual([1906 + 1875, 32, 32, 3]);
    expect(all.classNames).toEqual(Object.keys(PER_CATEGORY));
    const bases = all.captions.map((c, i) => [c, i] as const).filter(([c]) => !c.includes(': ') || !c.endsWith('skin tone'));
    const counts = Object.fromEntries(all.classNames.map((n) => [n, 0]));
    const firstOfGroup = new Set<number>();
    all.groups.forEach((g, i) => {
      if (firstOfGroup.has(g)) return;
      firstOfGroup.add(g);
      counts[all.classNames[all.labels[i]!]!]! += 1;
    });
    expect(counts).toEqual(PER_CATEGORY);
    expect(firstOfGroup.size).toBe(1906);
    expect(bases.length).toBe(1906);
    const santa = all.unified.indexOf('1F385');
    expect(all.captions[santa]).toBe('father christmas');
    expect(all.unified.slice(santa, santa + 6)).toEqual(['1F385', '1F385-1F3FB', '1F385-1F3FC', '1F385-1F3FD', '1F385-1F3FE', '1F385-1F3FF']);
    expect(all.captions[santa + 1]).toBe('father christmas: light skin tone');
    expect(new Set(all.groups.subarray(santa, santa + 6))).toEqual(new Set([all.groups[santa]]));
    const couple = all.unified.indexOf('1F9D1-1F3FB-200D-1F91D-200D-1F9D1-1F3FF');
    expect(all.captions[couple]).toBe('people holding hands: light skin tone, dark skin tone');
  });

  it('a seeded split holds out whole base emoji, about a tenth of each category', () => {
    const { train, validation } = split(all, { validation: 0.1, seed: 3 });
    expect(train.shape[0] + validation.shape[0]).toBe(all.shape[0]);
    const size = (gs: Int32Array) => gs.reduce((m, g) => m.set(g, (m.get(g) ?? 0) + 1), new Map<number, number>());
    const whole = size(all.groups), inVal = size(validation.groups!), inTrain = size(train.groups!);
    expect(inVal.size).toBe(Math.round(0.1 * 1906));
    for (const [g, k] of inVal) {
      expect(inTrain.has(g)).toBe(false);
      expect(k).toBe(whole.get(g));
    }
    const valPerClass = all.classNames.map((_, c) => [...inVal.keys()].filter((g) => all.labels[all.groups.indexOf(g)] === c).length);
    Object.values(PER_CATEGORY).forEach((n, c) => expect(Math.abs(valPerClass[c]! - n / 10)).toBeLessThanOrEqual(1));
    expect(split(all, { validation: 0.1, seed: 3 }).validation.captions).toEqual(validation.captions);
    expect(() => split(all, { validation: 1906 })).toThrow('split: validation must be a fraction in (0, 1) or a count in [1, 1905] for 1906 groups; got 1906');
  });

  it('32 px images are the means of 2 × 2 blocks of the 64 px ones, alpha composited on the background', async () => {
    const few = entries('google').filter((e) => e.category === 'Animals & Nature').slice(0, 5);
    const big = await emojiDataset(few, googleImage, { size: 64 });
    const small = await emojiDataset(few, googleImage, { size: 32 });
    expect(small.captions).toEqual(big.captions);
    let worst = 0;
    for (let k = 0; k < 5; k++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) {
      const at = (yy: number, xx: number) => big.images[k * 64 * 64 * 3 + (yy * 64 + xx) * 3 + c]!;
      const mean = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
      worst = Math.max(worst, Math.abs(small.images[k * 32 * 32 * 3 + (y * 32 + x) * 3 + c]! - mean));
    }
    expect(worst).toBeLessThan(1e-5);
    // The corners of the artwork are transparent: white by default, the background when given.
    expect(Array.from(big.images.subarray(0, 3))).toEqual([1, 1, 1]);
    const black = await emojiDataset(few, googleImage, { background: '#000000', channels: 4 });
    expect(Array.from(black.images.subarray(0, 4))).toEqual([-1, -1, -1, -1]);
    const sub = await emojiDataset(entries('google'), () => BLANK, { labels: 'subcategory', size: 32, channels: 1 });
    expect(sub.classNames.length).toBe(98);
    expect(sub.classNames.slice(0, 2)).toEqual(['face-smiling', 'face-affection']);
  });

  it('leaves out the images a vendor lacks, and checks its options', async () => {
    const fb = entries('facebook');
    const ds = await emojiDataset(fb, () => BLANK, { vendor: 'facebook', size: 32, channels: 1 });
    expect(ds.shape[0]).toBe(fb.filter((e) => e.category !== 'Component' && e.has_img_facebook === true).length);
    expect(ds.shape[0]).toBe(1855);
    await expect(loadEmoji({ vendor: 'apple' as 'google' })).rejects.toThrow("loadEmoji: vendor must be one of 'google', 'twitter', 'facebook'; got \"apple\"");
    await expect(loadEmoji({ size: 16 as 32 })).rejects.toThrow('loadEmoji: size must be 32 or 64; got 16');
    await expect(loadEmoji({ skinTone: true } as never)).rejects.toThrow("loadEmoji: unknown option 'skinTone'; did you mean 'skinTones'?");
    await expect(emojiDataset(fb.slice(0, 1), () => rgbaPng(8, 8, new Array(256).fill(0)))).rejects.toThrow(/is 8×8; the emoji images are 64×64/);
  });
});

describe('README', () => {
  it("the emoji example runs as written", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('loadEmoji('));
    expect(block).toBeDefined();
    const dir = fileURLToPath(new URL('..', import.meta.url));
    const file = join(dir, `.emoji-example-${process.pid}.ts`);
    writeFileSync(file, block!);
    try {
      const tsx = join(dir, '..', '..', 'node_modules', '.bin', 'tsx');
      const r = spawnSync(tsx, ['--conditions=source', file], { cwd: tmpdir(), encoding: 'utf8', timeout: 300_000, env: { ...process.env, NODE_OPTIONS: '' } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^\[ 32, 32, 32, 3 \] .+ .+ \[ \d+, 32, 32, 3 \]\n$/);
    } finally {
      rmSync(file, { force: true });
    }
  }, 300_000);
});
