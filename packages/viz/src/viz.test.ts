import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { formatTick, gridLayout, imageGrid, linePlotSvg, logTicks, niceTicks } from './index.js';
import { imageGridPng, linePlotPng, scatterPlotPng } from './node.js';

const decode = (b: Buffer) => PNG.sync.read(b);
const rgb = (p: PNG, x: number, y: number) => Array.from(p.data.subarray((y * p.width + x) * 4, (y * p.width + x) * 4 + 3));

describe('imageGridPng', () => {
  it('puts pixel (y, x) of image k at the grid offset, mapping [-1, 1] to 0..255 and clipping', () => {
    const n = 5, h = 3, w = 4;
    const pixels = new Float32Array(n * h * w).fill(-1);
    pixels[(2 * h + 1) * w + 3] = 1; // image 2, row 1, col 3
    pixels[(4 * h + 2) * w + 0] = 0; // image 4, row 2, col 0 → 128
    pixels[(0 * h + 0) * w + 0] = 7; // clipped to 1 → 255
    const png = decode(imageGridPng(pixels, { n, height: h, width: w, channels: 1, cols: 3, padding: 1, scale: 2 }));
    // cols 3, rows 2, cell (w + pad)·s = 10 by (h + pad)·s = 8, plus pad·s = 2
    expect([png.width, png.height]).toEqual([3 * 10 + 2, 2 * 8 + 2]);
    const at = (k: number, y: number, x: number) => rgb(png, 2 + (k % 3) * 10 + x * 2, 2 + Math.floor(k / 3) * 8 + y * 2);
    expect(at(2, 1, 3)).toEqual([255, 255, 255]);
    expect(at(2, 1, 2)).toEqual([0, 0, 0]);
    expect(at(4, 2, 0)).toEqual([128, 128, 128]);
    expect(at(0, 0, 0)).toEqual([255, 255, 255]);
    expect(rgb(png, 0, 0)).toEqual([255, 255, 255]); // padding
    expect(rgb(png, 31, 17)).toEqual([255, 255, 255]); // the empty sixth cell
  });

  it('lays alpha (grey + alpha, RGBA) over the background', () => {
    // Opaque, half and fully transparent pixels in [-1, 1]: alpha 1, 0 (→ 128/255) and -1.
    const ga = Float32Array.from([-1, 1, -1, 0, -1, -1]);
    const g = decode(imageGridPng(ga, { n: 1, height: 1, width: 3, channels: 2, padding: 0 }));
    expect([g.data[0], g.data[4], g.data[8]]).toEqual([0, 127, 255]);
    const rgba = Float32Array.from([1, -1, -1, 1, 1, -1, -1, -1]);
    const c = decode(imageGridPng(rgba, { n: 1, height: 1, width: 2, channels: 4, padding: 0, background: 0 }));
    expect(Array.from(c.data.subarray(0, 8))).toEqual([255, 0, 0, 255, 0, 0, 0, 255]);
  });

  it('keeps RGB channels and a custom range', () => {
    const px = new Float32Array([0, 0.5, 1]);
    const png = decode(imageGridPng(px, { n: 1, height: 1, width: 1, channels: 3, padding: 0, range: [0, 1] }));
    expect(rgb(png, 0, 0)).toEqual([0, 128, 255]);
  });

  it('adds row labels to the left', () => {
    const plain = decode(imageGridPng(new Float32Array(4 * 16), { n: 4, height: 4, width: 4, channels: 1, cols: 2, scale: 4 }));
    const labelled = decode(imageGridPng(new Float32Array(4 * 16), { n: 4, height: 4, width: 4, channels: 1, cols: 2, scale: 4, rowLabels: ['0', '1'] }));
    expect(labelled.height).toBe(plain.height);
    const extra = labelled.width - plain.width;
    expect(extra).toBeGreaterThan(0);
    let dark = 0;
    for (let y = 0; y < labelled.height; y++) for (let x = 0; x < extra; x++) if (rgb(labelled, x, y)[0]! < 128) dark++;
    expect(dark).toBeGreaterThan(5); // glyphs were drawn
    expect(() => imageGridPng(new Float32Array(64), { n: 4, height: 4, width: 4, channels: 1, cols: 2, rowLabels: ['0'] })).toThrow(/1 labels for 2 rows/);
  });

  it('names the parameter that is wrong', () => {
    expect(() => imageGridPng(new Float32Array(10), { n: 1, height: 3, width: 3, channels: 1 })).toThrow(/pixels has 10 values; .* = 9/);
    expect(() => imageGridPng(new Float32Array(9), { n: 1, height: 3, width: 3, channels: 5 as never })).toThrow(/channels must be 1 \(grey\), 2 \(grey \+ alpha\), 3 \(RGB\) or 4 \(RGBA\); got 5/);
    expect(() => imageGridPng(new Float32Array(0), { n: 0, height: 3, width: 3, channels: 1 })).toThrow(/n must be a positive integer/);
    expect(() => imageGridPng(new Float32Array(9), { n: 1, height: 3, width: 3, channels: 1, range: [1, 1] })).toThrow(/range/);
  });

  it('imageGrid gives the same pixels as RGBA, without encoding (the browser path)', () => {
    const pixels = Float32Array.from({ length: 3 * 2 * 2 * 3 }, (_, i) => Math.sin(i));
    const o = { n: 3, height: 2, width: 2, channels: 3 as const, padding: 1, scale: 2 };
    const g = imageGrid(pixels, o);
    expect(g.data).toBeInstanceOf(Uint8ClampedArray);
    const png = decode(imageGridPng(pixels, o));
    expect([g.width, g.height]).toEqual([png.width, png.height]);
    expect(Array.from(g.data)).toEqual(Array.from(png.data));
    expect(() => imageGrid(new Float32Array(1), o)).toThrow(/imageGrid: pixels has 1 values/);
  });

  it('lays out ceil(sqrt(n)) columns by default', () => {
    expect(gridLayout({ n: 10, height: 2, width: 2 })).toMatchObject({ cols: 4, rows: 3 });
  });
});

describe('linePlotPng', () => {
  it('draws a horizontal series on the row its value maps to', () => {
    const W = 400, H = 300;
    // y from 0 to 10 gives nice ticks 0, 2, ..., 10: the axis spans exactly [0, 10]
    const png = decode(linePlotPng({ series: [{ name: '', x: [0, 100], y: [0, 10], color: '#ffffff' }, { name: 'flat', x: [0, 100], y: [5, 5], color: '#ff0000' }], width: W, height: H }));
    expect([png.width, png.height]).toEqual([W, H]);
    // plot area: top 16, bottom H - 36 → y = 5 sits at the middle row
    const mid = Math.round(16 + (H - 36 - 16) / 2);
    const xMid = Math.round(74 + (W - 74 - 16) / 2);
    const [r, g, b] = rgb(png, xMid, mid);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
    const [r2, g2] = rgb(png, xMid, mid + 20);
    expect(r2 === g2).toBe(true); // not red away from the line
  });

  it('skips non-finite points, rejects an empty plot and, on a log axis, non-positive values', () => {
    expect(() => linePlotPng({ series: [{ name: 'a', x: [1, 2], y: [NaN, Infinity] }] })).toThrow(/no finite points/);
    expect(() => linePlotPng({ series: [{ name: 'a', x: [1, 2], y: [0, -1] }], logY: true })).toThrow(/no finite positive points/);
    expect(() => linePlotPng({ series: [{ name: 'a', x: [1, 2], y: [1] }] })).toThrow(/2 x values and 1 y values/);
    expect(decode(linePlotPng({ series: [{ name: 'a', x: [1, 2, 3], y: [1, NaN, 0.1] }], logY: true, title: 't', xLabel: 'x', yLabel: 'y' })).width).toBe(640);
    expect(() => linePlotSvg({ series: [] })).toThrow(/linePlotSvg: series must be a non-empty array/);
    expect(linePlotSvg({ series: [{ name: 'a', x: [0, 1], y: [0, 1] }] })).toMatch(/^<svg [^]*<path d="M[^]*<\/svg>$/);
    expect(decode(scatterPlotPng({ series: [{ name: 'pts', x: [0, 1], y: [1, 0] }] })).height).toBe(400);
  });
});

describe('ticks', () => {
  it('are 1-2-5 steps covering the range, and powers of ten on log axes', () => {
    expect(niceTicks(0, 10, 6)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.013, 0.051, 5)).toEqual([0.02, 0.03, 0.04, 0.05]);
    expect(logTicks(0.003, 20)).toEqual([0.01, 0.1, 1, 10]);
    expect(logTicks(0.05, 0.3)).toEqual([0.05, 0.1, 0.2]);
    expect([formatTick(25000), formatTick(0.002), formatTick(1e-5), formatTick(0)]).toEqual(['25k', '0.002', '1e-5', '0']);
  });
});
