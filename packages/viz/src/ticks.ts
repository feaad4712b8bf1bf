/** "Nice" ticks (steps of 1, 2 or 5 × 10^k) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`niceTicks: bounds must be finite; got [${lo}, ${hi}]`);
  if (hi === lo) return [lo];
  if (hi < lo) [lo, hi] = [hi, lo];
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return out;
}

/** Ticks for a log axis: powers of ten in [lo, hi] (lo > 0), with 2× and 5× between when there are few decades. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi > 0)) throw new RangeError(`logTicks: bounds must be > 0; got [${lo}, ${hi}]`);
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mults = b - a <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = a; e <= b; e++) for (const m of mults) {
    const v = +(m * 10 ** e).toPrecision(12);
    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
  }
  return out.length ? out : [lo, hi];
}

/** Short labels: 0.001 → "0.001", 25000 → "25k", 1e-5 → "1e-5". */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 && a < 1e7 && Number.isInteger(v / 1000)) return `${v / 1000}k`;
  if (a >= 1e-3 && a < 1e6) return String(+v.toPrecision(6));
  const [m, e] = v.toExponential().split('e');
  return `${+(+m!).toPrecision(3)}e${+e!}`;
}
