import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { imageSize } from './decode.js';
import { decodeImage, imageFolder, jpegOrientation, orient, resizeRgba, type FolderFile, type SkippedFile } from './index.js';
import { premultiply, resizeBilinear } from './resample.js';
import { loadImageFolder } from './node.js';
import { encodePng, greyPng, rgbaPng } from './testing/png.js';

const px = (img: { rgba: Uint8Array }) => Array.from(img.rgba);
const close = (got: ArrayLike<number>, want: number[], digits = 5) => expect(Array.from(got).map((v) => +v.toFixed(digits))).toEqual(want.map((v) => +v.toFixed(digits)));

describe('decodeImage', () => {
  it('decodes every PNG colour type to 8-bit RGBA', () => {
    const grey = decodeImage(encodePng({ width: 2, height: 1, colorType: 0, bitDepth: 8, samples: [0, 200] }), 'g.png');
    expect(px(grey)).toEqual([0, 0, 0, 255, 200, 200, 200, 255]);
    const greyAlpha = decodeImage(encodePng({ width: 1, height: 1, colorType: 4, bitDepth: 8, samples: [90, 40] }), 'ga.png');
    expect(px(greyAlpha)).toEqual([90, 90, 90, 40]);
    const rgb = decodeImage(encodePng({ width: 1, height: 1, colorType: 2, bitDepth: 8, samples: [1, 2, 3] }), 'rgb.png');
    expect(px(rgb)).toEqual([1, 2, 3, 255]);
    const rgba = decodeImage(encodePng({ width: 1, height: 1, colorType: 6, bitDepth: 8, samples: [1, 2, 3, 4] }), 'rgba.png');
    expect(px(rgba)).toEqual([1, 2, 3, 4]);
    // 4-bit palette with a tRNS alpha for its first entry only
    const pal = decodeImage(encodePng({ width: 3, height: 1, colorType: 3, bitDepth: 4, samples: [2, 0, 1], palette: [[10, 20, 30], [40, 50, 60], [70, 80, 90]], trns: [128] }), 'p.png');
    expect(px(pal)).toEqual([70, 80, 90, 255, 10, 20, 30, 128, 40, 50, 60, 255]);
    // 1-bit grey is scaled to 0/255; rows start on a byte
    const bits = decodeImage(encodePng({ width: 3, height: 2, colorType: 0, bitDepth: 1, samples: [1, 0, 1, 0, 1, 0] }), 'b.png');
    expect(px(bits).filter((_, i) => i % 4 === 0)).toEqual([255, 0, 255, 0, 255, 0]);
    // tRNS on grey: the one listed value is transparent
    const keyed = decodeImage(encodePng({ width: 2, height: 1, colorType: 0, bitDepth: 8, samples: [7, 8], trns: [8] }), 'k.png');
    expect(px(keyed)).toEqual([7, 7, 7, 255, 8, 8, 8, 0]);
  });

  it('turns JPEGs upright by their EXIF orientation, as Pillow\'s exif_transpose', () => {
    // a b c / d e f, one value per pixel in the red channel
    const img = { width: 3, height: 2, rgba: Uint8Array.from([1, 2, 3, 4, 5, 6].flatMap((v) => [v, 0, 0, 255])) };
    const red = (o: number) => { const r = orient(img, o); return [r.width, r.height, ...Array.from(r.rgba).filter((_, i) => i % 4 === 0)]; };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(red)).toEqual([
      [3, 2, 1, 2, 3, 4, 5, 6], [3, 2, 3, 2, 1, 6, 5, 4], [3, 2, 6, 5, 4, 3, 2, 1], [3, 2, 4, 5, 6, 1, 2, 3],
      [2, 3, 1, 4, 2, 5, 3, 6], [2, 3, 4, 1, 5, 2, 6, 3], [2, 3, 6, 3, 5, 2, 4, 1], [2, 3, 3, 6, 2, 5, 1, 4],
    ]);
    // A JPEG 16 wide, red left and blue right, tagged 6 (stored turned anticlockwise): upright it is 8 wide, red on top.
    const flat = new Uint8Array(16 * 8 * 4);
    for (let i = 0; i < 128; i++) flat.set((i % 16) < 8 ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
    const jpg = jpeg.encode({ data: flat, width: 16, height: 8 }, 100).data;
    const exif = (orientation: number, order: 'MM' | 'II') => {
      const t = order === 'MM' ? [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]
        : [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0];
      const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...t];
      return Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 255, ...body, ...jpg.subarray(2)]);
    };
    for (const order of ['MM', 'II'] as const) {
      const tagged = exif(6, order);
      expect(jpegOrientation(tagged)).toBe(6);
      const up = decodeImage(tagged, 'up.jpg');
      expect([up.width, up.height]).toEqual([8, 16]);
      const px = (x: number, y: number) => Array.from(up.rgba.subarray((y * 8 + x) * 4, (y * 8 + x) * 4 + 3));
      expect(px(4, 3)[0]).toBeGreaterThan(200);
      expect(px(4, 12)[2]).toBeGreaterThan(200);
    }
    expect(jpegOrientation(exif(9, 'MM'))).toBe(1);
    expect(jpegOrientation(exif(6, 'MM').slice(0, 20))).toBe(1);
    expect(jpegOrientation(jpg)).toBe(1);
  });

  it('converts 16-bit PNGs to 8 bits by rounding v·255/65535', () => {
    const img = decodeImage(encodePng({ width: 2, height: 1, colorType: 2, bitDepth: 16, samples: [65535, 0, 32896, 128, 257, 1000] }), 'w.png');
    expect(px(img)).toEqual([255, 0, 128, 255, 0, 1, 4, 255]);
  });

  it('decodes pngjs output and a JPEG, and names the file it cannot read', () => {
    const p = new PNG({ width: 2, height: 2 });
    p.data.set([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 9, 9, 9, 0]);
    expect(px(decodeImage(PNG.sync.write(p), 'a.png'))).toEqual(Array.from(p.data));
    const flat = new Uint8Array(16 * 16 * 4);
    for (let i = 0; i < 256; i++) flat.set([200, 100, 50, 255], i * 4);
    const jpg = jpeg.encode({ data: flat, width: 16, height: 16 }, 100).data;
    expect(imageSize(jpg, 'x.jpg')).toEqual({ width: 16, height: 16, format: 'jpeg' });
    const img = decodeImage(jpg, 'x.jpg');
    expect([img.width, img.height]).toEqual([16, 16]);
    for (const [i, v] of [200, 100, 50, 255].entries()) expect(Math.abs(img.rgba[4 * 37 + i]! - v)).toBeLessThanOrEqual(3);
    expect(() => decodeImage(new TextEncoder().encode('not an image'), 'dir/x.png')).toThrow('dir/x.png: not a PNG or JPEG (unrecognised signature)');
    const truncated = rgbaPng(4, 4, new Array(64).fill(7)).slice(0, 40);
    expect(() => decodeImage(truncated, 't.png')).toThrow(/^t\.png: cannot decode PNG/);
    expect(() => decodeImage(greyPng(10, 10, new Array(100).fill(0)), 'big.png', { maxPixels: 99 })).toThrow('big.png: 10×10 is over maxPixels (99 pixels)');
  });
});

const files = (entries: Record<string, Uint8Array | string>): FolderFile[] =>
  Object.entries(entries).map(([path, b]) => ({ path, bytes: typeof b === 'string' ? new TextEncoder().encode(b) : b }));

describe('imageFolder transforms as diffusers does', () => {
  it('shrinks with Pillow\'s antialiased bilinear filter (4 → 2: weights 3/7, 3/7, 1/7)', async () => {
    // 4×4 grey, columns 0, 85, 170, 255 → 0, 1/3, 2/3, 1; out = (3·0 + 3·⅓ + ⅔)/7 = 5/21 and 16/21
    const img = greyPng(4, 4, Array.from({ length: 16 }, (_, i) => [0, 85, 170, 255][i % 4]!));
    const ds = await imageFolder(files({ 'a.png': img }), { resolution: 2, channels: 1 });
    close(ds.images, [10 / 21 - 1, 32 / 21 - 1, 10 / 21 - 1, 32 / 21 - 1]);
  });

  it('enlarges as bilinear with half-pixel centres (2 → 4: a, ¾a + ¼b, ¼a + ¾b, b)', async () => {
    const ds = await imageFolder(files({ 'a.png': greyPng(2, 2, [0, 255, 0, 255]) }), { resolution: 4, channels: 1 });
    close(ds.images.subarray(0, 4), [-1, -0.5, 0.5, 1]);
  });

  it('resizes the shorter side, then crops the centre as torchvision (offsets rounded half to even)', async () => {
    // 2 rows × 5 columns, value = column: shorter side is already 2, (5 − 2) / 2 = 1.5 → 2
    const five = greyPng(5, 2, [0, 60, 120, 180, 240, 0, 60, 120, 180, 240]);
    const a = await imageFolder(files({ 'a.png': five }), { resolution: 2, channels: 1, centerCrop: true });
    close(a.images, [120, 180, 120, 180].map((v) => v / 127.5 - 1));
    // 3 columns for 2: (3 − 2) / 2 = 0.5 → 0 (Math.round would give 1)
    const three = greyPng(3, 2, [0, 60, 120, 0, 60, 120]);
    const b = await imageFolder(files({ 'a.png': three }), { resolution: 2, channels: 1, centerCrop: true });
    close(b.images, [0, 60, 0, 60].map((v) => v / 127.5 - 1));
    // 4 × 8 at resolution 2 → 2 × 4 (antialiased, columns pairwise), centre columns 1 and 2
    const wide = await imageFolder(files({ 'a.png': greyPng(8, 4, new Array(32).fill(51)) }), { resolution: 2, channels: 3 });
    expect(wide.shape).toEqual([1, 2, 2, 3]);
    close(wide.images, new Array(12).fill(51 / 127.5 - 1));
  });

  it('resizing from the bytes equals resizing the premultiplied float image', () => {
    const rgba = Uint8Array.from({ length: 7 * 5 * 4 }, (_, i) => (i * 97 + (i >> 2) * 31) % 256);
    const img = { width: 7, height: 5, rgba };
    for (const [h, w] of [[2, 3], [9, 4], [5, 7], [3, 12]] as const) {
      const a = resizeRgba(img, h, w), b = resizeBilinear(premultiply(img), h, w);
      expect([a.height, a.width]).toEqual([h, w]);
      close(a.data, Array.from(b.data), 6);
    }
  });

  it('random crops are seeded windows of the resized image', async () => {
    const row = Array.from({ length: 10 }, (_, i) => i * 25);
    const bytes = greyPng(10, 2, [...row, ...row]);
    const lefts = new Set<number>();
    for (let seed = 0; seed < 12; seed++) {
      const ds = await imageFolder(files({ 'a.png': bytes }), { resolution: 2, channels: 1, seed });
      const first = Math.round((ds.images[0]! + 1) * 127.5) / 25;
      lefts.add(first);
      close(ds.images, [first, first + 1, first, first + 1].map((c) => (c * 25) / 127.5 - 1));
      const again = await imageFolder(files({ 'a.png': bytes }), { resolution: 2, channels: 1, seed });
      expect(Array.from(again.images)).toEqual(Array.from(ds.images));
    }
    expect(lefts.size).toBeGreaterThan(3);
    for (const l of lefts) expect(l >= 0 && l <= 8).toBe(true);
  });

  it('composites alpha on the background for 1 and 3 channels and keeps it for 2 and 4', async () => {
    const a = 128 / 255;
    const red = files({ 'a.png': rgbaPng(1, 1, [255, 0, 0, 128]) });
    close((await imageFolder(red, { resolution: 1 })).images, [1, 2 * (1 - a) - 1, 2 * (1 - a) - 1]);
    close((await imageFolder(red, { resolution: 1, background: '#000000' })).images, [2 * a - 1, -1, -1]);
    close((await imageFolder(red, { resolution: 1, background: [0, 0, 255] })).images, [2 * a - 1, -1, 2 * (1 - a) - 1]);
    close((await imageFolder(red, { resolution: 1, channels: 1, background: '#000000' })).images, [2 * 0.299 * a - 1]);
    close((await imageFolder(red, { resolution: 1, channels: 4 })).images, [1, -1, -1, 2 * a - 1]);
    close((await imageFolder(red, { resolution: 1, channels: 2 })).images, [2 * 0.299 - 1, 2 * a - 1]);
    // a transparent pixel's colour does not bleed when shrinking (premultiplied): red beside invisible green
    const pair = files({ 'a.png': rgbaPng(2, 2, [255, 0, 0, 255, 0, 255, 0, 0, 255, 0, 0, 255, 0, 255, 0, 0]) });
    const shrunk = await imageFolder(pair, { resolution: 1, channels: 4 });
    close(shrunk.images, [1, -1, -1, 0]);
    await expect(imageFolder(red, { resolution: 1, background: 'white' })).rejects.toThrow("imageFolder: background must be '#rrggbb' or [r, g, b] with integers in 0..255; got \"white\"");
  });
});

describe('imageFolder layout', () => {
  const img = (v: number) => greyPng(2, 2, [v, v, v, v]);

  it('class folders are labels, in sorted order, below a shared folder name; hidden files are ignored', async () => {
    const ds = await imageFolder(files({ 'pets/dog/1.png': img(0), 'pets/cat/2.png': img(255), 'pets/cat/1.png': img(255), 'pets/.DS_Store': 'x', 'pets/cat/._1.png': 'x' }), { resolution: 2, channels: 1 });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(ds.labels!)).toEqual([0, 0, 1]);
    expect(ds.paths).toEqual(['pets/cat/1.png', 'pets/cat/2.png', 'pets/dog/1.png']);
    expect(ds.skipped).toBe(0);
    const flat = await imageFolder(files({ 'b.png': img(0), 'a.jpg.txt': 'x', 'a.png': img(0) }), { resolution: 2 });
    expect([flat.labels, flat.classNames, flat.paths]).toEqual([undefined, undefined, ['a.png', 'b.png']]);
  });

  it('metadata.jsonl gives captions from captionColumn (default text), file_name relative to its folder', async () => {
    const meta = ['{"file_name": "cat/1.png", "text": "a white cat", "tag": 1}', '{"file_name": "dog/1.png", "text": ["a dog", "a black dog"]}', '', 'oops', '{"file_name": "gone.png", "text": "x"}'].join('\n');
    const skips: SkippedFile[] = [];
    const ds = await imageFolder(files({ 'metadata.jsonl': meta, 'cat/1.png': img(255), 'cat/2.png': img(255), 'dog/1.png': img(0) }), { resolution: 2, onSkip: (s) => skips.push(s) });
    expect(ds.captions?.[0]).toBe('a white cat');
    expect(ds.captions?.[1]).toBe('');
    expect(['a dog', 'a black dog']).toContain(ds.captions?.[2]);
    expect(Array.from(ds.labels!)).toEqual([0, 0, 1]);
    expect(skips.map((s) => s.path)).toEqual(['metadata.jsonl:4', 'metadata.jsonl:5']);
    expect(skips[1]!.reason).toBe("file_name 'gone.png' names no image in the folder");
    expect(ds.skipped).toBe(2);
    const inFolder = await imageFolder(files({ 'train/metadata.jsonl': '{"file_name": "a.png", "caption": "c"}', 'train/a.png': img(0), 'b.png': img(0) }), { resolution: 2, captionColumn: 'caption' });
    expect(inFolder.captions).toEqual(['', 'c']);
    await expect(imageFolder(files({ 'metadata.jsonl': '{"file_name": "a.png", "caption": "c"}', 'a.png': img(0) }), { resolution: 2 })).rejects.toThrow(
      "imageFolder: captionColumn 'text' is not a column of the metadata; its columns are 'caption'",
    );
  });

  it('metadata.csv gives captions too: quoted commas, quotes and newlines, a wrong field count reported', async () => {
    const csv = ['\uFEFFfile_name,text', 'a.png,"a cat, white"', 'b.png,"she said ""hi""\nand left"', 'c.png,one,two', '', 'sub/d.png,plain'].join('\r\n');
    const skips: SkippedFile[] = [];
    const ds = await imageFolder(files({ 'metadata.csv': csv, 'a.png': img(0), 'b.png': img(0), 'c.png': img(0), 'sub/d.png': img(0) }), { resolution: 2, onSkip: (s) => skips.push(s) });
    expect(ds.captions).toEqual(['a cat, white', 'she said "hi"\nand left', '', 'plain']);
    expect(skips).toEqual([{ path: 'metadata.csv:5', reason: 'has 3 fields; the header has 2' }]);
  });

  it('skips and counts corrupt files, reporting each by name, and refuses folders over maxBytes', async () => {
    const skips: SkippedFile[] = [];
    const bad = { 'cat/1.png': img(255), 'cat/broken.png': 'not a png', 'dog/1.png': img(0), 'dog/cut.png': img(0).slice(0, 45), 'dog/huge.png': greyPng(9, 9, new Array(81).fill(0)) };
    const ds = await imageFolder(files(bad), { resolution: 2, channels: 1, maxPixels: 80, onSkip: (s) => skips.push(s) });
    expect(ds.shape).toEqual([2, 2, 2, 1]);
    expect(Array.from(ds.labels!)).toEqual([0, 1]);
    close(ds.images, [1, 1, 1, 1, -1, -1, -1, -1]);
    expect(ds.skipped).toBe(3);
    expect(ds.skippedFiles).toEqual(skips);
    expect(skips.map((s) => s.path)).toEqual(['cat/broken.png', 'dog/cut.png', 'dog/huge.png']);
    expect(skips[0]!.reason).toBe('not a PNG or JPEG (unrecognised signature)');
    expect(skips[1]!.reason).toMatch(/^cannot decode PNG/);
    expect(skips[2]!.reason).toBe('9×9 is over maxPixels (80 pixels)');
    await expect(imageFolder(files(bad), { resolution: 2, strict: true })).rejects.toThrow('imageFolder: cannot decode cat/broken.png: not a PNG or JPEG');
    await expect(imageFolder(files({ 'a.png': 'x' }), { resolution: 2 })).rejects.toThrow('imageFolder: none of the 1 images could be read (first: a.png: not a PNG or JPEG (unrecognised signature))');
    await expect(imageFolder(files({ 'a.png': img(0), 'b.png': img(0) }), { resolution: 64, maxBytes: 60_000 })).rejects.toThrow(
      /^imageFolder: the 2 images at 64×64×3 take 0\.1 MiB as float32, over maxBytes \(0\.1 MiB\)/,
    );
    await expect(imageFolder(files({ 'a.png': img(0) }), { resolution: 0 })).rejects.toThrow(/resolution must be an integer in \[1, 8192\]/);
    await expect(imageFolder(files({ 'a.png': img(0) }), { resolution: 2, channels: 5 as 3 })).rejects.toThrow('imageFolder: channels must be 1, 2, 3 or 4; got 5');
    await expect(imageFolder(files({ 'a.png': img(0) }), { resolution: 2, size: 2 } as never)).rejects.toThrow("imageFolder: unknown option 'size'. Accepted: 'resolution', ");
  });

  it('the Node layer reads a folder, naming files by their path on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'folder-'));
    mkdirSync(join(dir, 'sub', 'cat'), { recursive: true });
    mkdirSync(join(dir, 'sub', 'dog'));
    writeFileSync(join(dir, 'sub', 'cat', 'a.png'), img(255));
    writeFileSync(join(dir, 'sub', 'dog', 'a.png'), img(0));
    writeFileSync(join(dir, 'sub', 'dog', 'b.jpg'), 'no jpeg');
    symlinkSync(join(dir, 'sub', 'cat', 'a.png'), join(dir, 'sub', 'cat', 'linked.png'));
    symlinkSync(join(dir, 'nowhere.png'), join(dir, 'sub', 'dog', 'broken.png'));
    const skips: SkippedFile[] = [];
    const ds = await loadImageFolder(dir, { resolution: 2, onSkip: (s) => skips.push(s) });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.paths).toEqual([join(dir, 'sub', 'cat', 'a.png'), join(dir, 'sub', 'cat', 'linked.png'), join(dir, 'sub', 'dog', 'a.png')]);
    expect(skips.map((s) => s.path)).toEqual([join(dir, 'sub', 'dog', 'b.jpg'), join(dir, 'sub', 'dog', 'broken.png')]);
    expect(skips[0]!.reason).toBe('not a PNG or JPEG (unrecognised signature)');
    expect(skips[1]!.reason).toMatch(/ENOENT/);
    await expect(loadImageFolder(join(dir, 'nope'), { resolution: 2 })).rejects.toThrow(/^loadImageFolder: cannot read folder/);
  });
});
