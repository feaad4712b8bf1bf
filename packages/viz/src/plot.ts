import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { escapeXml } from './xml.js';
import { formatTick, logTicks, niceTicks } from './ticks.js';

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** CSS color; default from a fixed palette. */
  color?: string;
}

export interface PlotOptions {
  series: Series[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Log-scale y axis; points with y ≤ 0 are skipped like NaN. */
  logY?: boolean;
  width?: number;
  height?: number;
}

const SERIES_KEYS = optionKeys<Series>()(['name', 'x', 'y', 'color']);
const PLOT_KEYS = optionKeys<PlotOptions>()(['series', 'title', 'xLabel', 'yLabel', 'logY', 'width', 'height']);
const SCATTER_KEYS = optionKeys<PlotOptions & { radius?: number }>()([...PLOT_KEYS, 'radius']);

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

interface Frame {
  svgOpen: string;
  px: (x: number) => number;
  py: (y: number) => number;
  ok: (x: number, y: number) => boolean;
  colors: string[];
  legend: string;
}

function frame(o: PlotOptions, kind: string, keys: readonly string[]): Frame {
  checkOptions(kind, o, keys);
  if (!Array.isArray(o.series) || o.series.length === 0) throw new RangeError(`${kind}: series must be a non-empty array`);
  o.series.forEach((s, i) => {
    checkOptions(kind, s, SERIES_KEYS, `series[${i}]`);
    if (s.x.length !== s.y.length) throw new RangeError(`${kind}: series[${i}] ('${s.name}') has ${s.x.length} x values and ${s.y.length} y values`);
  });
  const W = o.width ?? 640;
  const H = o.height ?? 400;
  const logY = o.logY ?? false;
  const ok = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const s of o.series) for (let i = 0; i < s.x.length; i++) {
    const x = s.x[i]!;
    const y = s.y[i]!;
    if (!ok(x, y)) continue;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  if (x0 === Infinity) throw new RangeError(`${kind}: no finite${logY ? ' positive' : ''} points to draw`);
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 = logY ? y0 / 2 : y0 - 1; y1 = logY ? y1 * 2 : y1 + 1; }
  const xt = niceTicks(x0, x1, 7);
  let yt: number[];
  if (logY) {
    const pad = (Math.log10(y1) - Math.log10(y0)) * 0.04;
    y0 = 10 ** (Math.log10(y0) - pad);
    y1 = 10 ** (Math.log10(y1) + pad);
    yt = logTicks(y0, y1);
  } else {
    yt = niceTicks(y0, y1, 6);
    y0 = Math.min(y0, yt[0]!);
    y1 = Math.max(y1, yt[yt.length - 1]!);
  }
  x0 = Math.min(x0, xt[0]!);
  x1 = Math.max(x1, xt[xt.length - 1]!);
  const m = { l: 74, r: 16, t: o.title ? 40 : 16, b: o.xLabel ? 56 : 36 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * pw;
  const ly = (y: number) => (logY ? Math.log10(y) : y);
  const py = (y: number) => m.t + ph - ((ly(y) - ly(y0)) / (ly(y1) - ly(y0))) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  for (const t of yt) {
    const y = py(t).toFixed(1);
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`);
    parts.push(`<line x1="${m.l - 5}" x2="${m.l}" y1="${y}" y2="${y}" stroke="black"/>`);
    parts.push(`<text x="${m.l - 8}" y="${y}" text-anchor="end" dominant-baseline="central">${formatTick(t)}</text>`);
  }
  for (const t of xt) {
    const x = px(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${m.t + ph}" stroke="#e6e6e6"/>`);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t + ph}" y2="${m.t + ph + 5}" stroke="black"/>`);
    parts.push(`<text x="${x}" y="${m.t + ph + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="black"/>`);
  if (o.title) parts.push(`<text x="${m.l + pw / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(o.title)}</text>`);
  if (o.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${H - 14}" text-anchor="middle" font-size="13">${escapeXml(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">${escapeXml(o.yLabel)}</text>`);
  const colors = o.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]!);
  const lw = Math.max(...o.series.map((s) => s.name.length)) * 7.5 + 36;
  const legend = o.series.length > 1 || o.series[0]!.name
    ? `<g transform="translate(${m.l + pw - lw - 8} ${m.t + 8})"><rect width="${lw}" height="${o.series.length * 18 + 8}" fill="white" fill-opacity="0.85" stroke="#999"/>` +
      o.series.map((s, i) => `<line x1="8" x2="26" y1="${14 + i * 18}" y2="${14 + i * 18}" stroke="${colors[i]}" stroke-width="3"/><text x="32" y="${14 + i * 18}" dominant-baseline="central">${escapeXml(s.name)}</text>`).join('') +
      '</g>'
    : '';
  return { svgOpen: parts.join(''), px, py, ok, colors, legend };
}

/** The SVG of a line plot (what `linePlotPng` rasterizes). Non-finite points break the line. */
export function linePlotSvg(o: PlotOptions): string {
  return lineSvg(o, 'linePlotSvg');
}

/** linePlotSvg with the caller's name in errors. */
export function lineSvg(o: PlotOptions, where: string): string {
  const f = frame(o, where, PLOT_KEYS);
  const lines = o.series.map((s, i) => {
    let d = '';
    let pen = false;
    for (let k = 0; k < s.x.length; k++) {
      if (!f.ok(s.x[k]!, s.y[k]!)) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${f.px(s.x[k]!).toFixed(2)} ${f.py(s.y[k]!).toFixed(2)}`;
      pen = true;
    }
    // A point with no drawable neighbour would be invisible as a path: mark it.
    let dots = '';
    for (let k = 0; k < s.x.length; k++) {
      const here = f.ok(s.x[k]!, s.y[k]!);
      const prev = k > 0 && f.ok(s.x[k - 1]!, s.y[k - 1]!);
      const next = k + 1 < s.x.length && f.ok(s.x[k + 1]!, s.y[k + 1]!);
      if (here && !prev && !next) dots += `<circle cx="${f.px(s.x[k]!).toFixed(2)}" cy="${f.py(s.y[k]!).toFixed(2)}" r="3"/>`;
    }
    return `<path d="${d}" fill="none" stroke="${f.colors[i]}" stroke-width="2" stroke-linejoin="round"/><g fill="${f.colors[i]}">${dots}</g>`;
  });
  return `${f.svgOpen}${lines.join('')}${f.legend}</svg>`;
}

/** The SVG of a scatter plot (for 2-D samples; what `scatterPlotPng` rasterizes). */
export function scatterPlotSvg(o: PlotOptions & { radius?: number }): string {
  return scatterSvg(o, 'scatterPlotSvg');
}

/** scatterPlotSvg with the caller's name in errors. */
export function scatterSvg(o: PlotOptions & { radius?: number }, where: string): string {
  const f = frame(o, where, SCATTER_KEYS);
  const r = o.radius ?? 2;
  const dots = o.series.map((s, i) => {
    let g = `<g fill="${f.colors[i]}" fill-opacity="0.7">`;
    for (let k = 0; k < s.x.length; k++) if (f.ok(s.x[k]!, s.y[k]!)) g += `<circle cx="${f.px(s.x[k]!).toFixed(1)}" cy="${f.py(s.y[k]!).toFixed(1)}" r="${r}"/>`;
    return `${g}</g>`;
  });
  return `${f.svgOpen}${dots.join('')}${f.legend}</svg>`;
}
