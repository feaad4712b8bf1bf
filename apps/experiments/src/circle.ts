import { createRng } from '@tfjs-diffusion/schedules';

/** Points at random angles on a unit circle lying in a random 2-D plane of R^dim. */
export function circleData(n: number, dim: number, seed: number, basisSeed = 7) {
  const rng = createRng(basisSeed);
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
  const u = Array.from({ length: dim }, () => rng.normal());
  const nu = Math.sqrt(dot(u, u));
  const e0 = u.map((v) => v / nu);
  const w = Array.from({ length: dim }, () => rng.normal());
  const pw = dot(w, e0);
  const w2 = w.map((v, i) => v - pw * e0[i]!);
  const nw = Math.sqrt(dot(w2, w2));
  const e1 = w2.map((v) => v / nw);
  const r = createRng(seed);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const th = 2 * Math.PI * r.next();
    for (let e = 0; e < dim; e++) data[i * dim + e] = Math.cos(th) * e0[e]! + Math.sin(th) * e1[e]!;
  }
  /** Median distance of points to the circle. */
  const medianDistanceToCircle = (xs: Float32Array) => {
    const m = xs.length / dim;
    const ds: number[] = [];
    for (let i = 0; i < m; i++) {
      const x = Array.from(xs.subarray(i * dim, (i + 1) * dim));
      const p0 = dot(x, e0);
      const p1 = dot(x, e1);
      const off = Math.max(dot(x, x) - p0 * p0 - p1 * p1, 0);
      ds.push(Math.sqrt((Math.hypot(p0, p1) - 1) ** 2 + off));
    }
    ds.sort((a, b) => a - b);
    return ds[Math.floor(ds.length / 2)]!;
  };
  return { data: { data, shape: [n, 1, 1, dim] as [number, number, number, number] }, medianDistanceToCircle };
}
