// The AdamW update of many parameter tensors in one call (the formula:
// src/kernels/AdamW.ts). All tensors lie back to back in four regions
// (p, m, v, g), each tensor starting on a 16-byte boundary; a table of
// `count` rows [offset (i32, floats), length (i32, floats), stepSize, keep,
// l2 (f32)] says where each one is and its coefficients. p, m and v are updated in place.
import { madd } from './lib/simd';
export { heapStart } from './lib/simd';

export function adamw(count: i32, table: usize, p: usize, m: usize, v: usize, g: usize, b1: f32, b2: f32, eps: f32, invSqrtBc2: f32): void {
  const vb1 = f32x4.splat(b1);
  const vc1 = f32x4.splat(1 - b1);
  const vb2 = f32x4.splat(b2);
  const vc2 = f32x4.splat(1 - b2);
  const veps = f32x4.splat(eps);
  const vib = f32x4.splat(invSqrtBc2);
  for (let t = 0; t < count; t++) {
    const row = table + (<usize>(t * 5) << 2);
    const off = <usize>load<i32>(row) << 2;
    const n = load<i32>(row, 4);
    const step = f32x4.splat(load<f32>(row, 8));
    const keep = f32x4.splat(load<f32>(row, 12));
    const l2v = load<f32>(row, 16);
    const l2 = f32x4.splat(l2v);
    // lengths are padded to whole vectors: the padding lanes are zeros in and ignored out
    for (let i = 0; i < n; i += 4) {
      const o = off + (<usize>i << 2);
      const th = v128.load(p + o);
      let gr = v128.load(g + o);
      if (l2v != 0) gr = madd(l2, th, gr);
      const mj = madd(vb1, v128.load(m + o), f32x4.mul(vc1, gr));
      const vj = madd(vb2, v128.load(v + o), f32x4.mul(f32x4.mul(vc2, gr), gr));
      v128.store(m + o, mj);
      v128.store(v + o, vj);
      const den = madd(f32x4.sqrt(vj), vib, veps);
      v128.store(p + o, f32x4.sub(f32x4.mul(keep, th), f32x4.div(f32x4.mul(step, mj), den)));
    }
  }
}
