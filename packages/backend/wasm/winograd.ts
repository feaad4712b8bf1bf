// Winograd convolutions F(m×m, 3×3), m = 2 or 4 (Lavin & Gray 2016), NHWC,
// stride 1, with the channel counts padded to multiples of 4 by the caller.
// One call transforms the filter once (transformFilter), then conv3x3 works
// through blocks of tiles: input transform (one pass over the input), α²
// independent [tiles×Ci]·[Ci×Co] products, output transform. Every transform
// is vectorised over 4 channels (NHWC keeps them adjacent).
import { madd } from './lib/simd';
export { heapStart } from './lib/simd';

// @ts-ignore: decorator
@inline function ld(p: usize): v128 { return v128.load(p); }
// @ts-ignore: decorator
@inline function st(p: usize, v: v128): void { v128.store(p, v); }
// @ts-ignore: decorator
@inline function add(a: v128, b: v128): v128 { return f32x4.add(a, b); }
// @ts-ignore: decorator
@inline function sub(a: v128, b: v128): v128 { return f32x4.sub(a, b); }
// @ts-ignore: decorator
@inline function mul(a: v128, b: v128): v128 { return f32x4.mul(a, b); }

// ---- 1-D transforms: read n vectors at s + k·ss, write at d + k·ds ----

/** F(4,3) input: Bᵀ·d (6 → 6). */
// @ts-ignore: decorator
@inline function bt6(s: usize, ss: usize, d: usize, ds: usize): void {
  const d0 = ld(s), d1 = ld(s + ss), d2 = ld(s + 2 * ss), d3 = ld(s + 3 * ss), d4 = ld(s + 4 * ss), d5 = ld(s + 5 * ss);
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  const t1 = sub(d4, mul(four, d2));
  const t2 = sub(d3, mul(four, d1));
  const t3 = sub(d4, d2);
  const t4 = mul(two, sub(d3, d1));
  st(d, add(sub(mul(four, d0), mul(five, d2)), d4));
  st(d + ds, add(t1, t2));
  st(d + 2 * ds, sub(t1, t2));
  st(d + 3 * ds, add(t3, t4));
  st(d + 4 * ds, sub(t3, t4));
  st(d + 5 * ds, add(sub(mul(four, d1), mul(five, d3)), d5));
}

/** F(2,3) input: Bᵀ·d (4 → 4). */
// @ts-ignore: decorator
@inline function bt4(s: usize, ss: usize, d: usize, ds: usize): void {
  const d0 = ld(s), d1 = ld(s + ss), d2 = ld(s + 2 * ss), d3 = ld(s + 3 * ss);
  st(d, sub(d0, d2));
  st(d + ds, add(d1, d2));
  st(d + 2 * ds, sub(d2, d1));
  st(d + 3 * ds, sub(d1, d3));
}

/** F(4,3) filter: G·g (3 → 6). */
// @ts-ignore: decorator
@inline function g6(s: usize, ss: usize, d: usize, ds: usize): void {
  const g0 = ld(s), g1 = ld(s + ss), g2 = ld(s + 2 * ss);
  const a = add(g0, g2);
  const m6 = f32x4.splat(-1.0 / 6.0);
  const b = add(mul(f32x4.splat(1.0 / 24.0), g0), mul(f32x4.splat(1.0 / 6.0), g2));
  const c = mul(f32x4.splat(1.0 / 12.0), g1);
  st(d, mul(f32x4.splat(0.25), g0));
  st(d + ds, mul(m6, add(a, g1)));
  st(d + 2 * ds, mul(m6, sub(a, g1)));
  st(d + 3 * ds, add(b, c));
  st(d + 4 * ds, sub(b, c));
  st(d + 5 * ds, g2);
}

/** F(2,3) filter: G·g (3 → 4). */
// @ts-ignore: decorator
@inline function g4(s: usize, ss: usize, d: usize, ds: usize): void {
  const g0 = ld(s), g1 = ld(s + ss), g2 = ld(s + 2 * ss);
  const half = f32x4.splat(0.5);
  const a = add(g0, g2);
  st(d, g0);
  st(d + ds, mul(half, add(a, g1)));
  st(d + 2 * ds, mul(half, sub(a, g1)));
  st(d + 3 * ds, g2);
}

/** F(4,3) output: Aᵀ·m (6 → 4). */
// @ts-ignore: decorator
@inline function at6(s: usize, ss: usize, d: usize, ds: usize): void {
  const m0 = ld(s), m1 = ld(s + ss), m2 = ld(s + 2 * ss), m3 = ld(s + 3 * ss), m4 = ld(s + 4 * ss), m5 = ld(s + 5 * ss);
  const a = add(m1, m2), b = sub(m1, m2), c = add(m3, m4), e = sub(m3, m4);
  st(d, add(add(m0, a), c));
  st(d + ds, madd(f32x4.splat(2), e, b));
  st(d + 2 * ds, madd(f32x4.splat(4), c, a));
  st(d + 3 * ds, add(madd(f32x4.splat(8), e, b), m5));
}

/** F(2,3) output: Aᵀ·m (4 → 2). */
// @ts-ignore: decorator
@inline function at4(s: usize, ss: usize, d: usize, ds: usize): void {
  const m0 = ld(s), m1 = ld(s + ss), m2 = ld(s + 2 * ss), m3 = ld(s + 3 * ss);
  st(d, add(add(m0, m1), m2));
  st(d + ds, sub(sub(m1, m2), m3));
}

/** Bytes of scratch conv3x3 needs for tile blocks of `tb` tiles. */
export function scratchBytes(m: i32, ci: i32, co: i32, tb: i32): usize {
  const a2 = <usize>((m + 2) * (m + 2));
  return a2 * <usize>tb * <usize>(ci + co) * 4 + 2 * a2 * 16 + 64;
}

/**
 * u[ξ][ci][co] ← (G g Gᵀ)[ξ] for the filter g[3][3][ci][co] (HWIO), ξ over α×α,
 * α = m + 2. `tmp` holds 3α vectors.
 */
export function transformFilter(m: i32, g: usize, ci: i32, co: i32, u: usize, tmp: usize): void {
  const a = m + 2;
  const rowStride = <usize>(3 * ci * co) << 2; // g's kh stride in bytes
  const xiStride = <usize>(ci * co) << 2;
  for (let c = 0; c < ci; c++) {
    for (let o = 0; o < co; o += 4) {
      const src = g + ((<usize>(c * co + o)) << 2);
      const dst = u + ((<usize>(c * co + o)) << 2);
      // columns: tmp[i][s] for the 3 filter columns s
      for (let s = 0; s < 3; s++) {
        if (m == 4) g6(src + <usize>s * (xiStride), rowStride, tmp + <usize>s * 16, 48);
        else g4(src + <usize>s * (xiStride), rowStride, tmp + <usize>s * 16, 48);
      }
      // rows: u[i·α + j]
      for (let i = 0; i < a; i++) {
        if (m == 4) g6(tmp + <usize>i * 48, 16, dst + <usize>(i * a) * xiStride, xiStride);
        else g4(tmp + <usize>i * 48, 16, dst + <usize>(i * a) * xiStride, xiStride);
      }
    }
  }
}

/**
 * c[rows×n] ← a[rows×k]·b[k×n], rows a multiple of 4, n of 4: 4×8 register
 * blocks (8 accumulators) with a 4×4 tail in n.
 */
function gemm(a: usize, b: usize, c: usize, rows: i32, k: i32, n: i32): void {
  const ak = <usize>k << 2;
  const bn = <usize>n << 2;
  const z = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    for (let r = 0; r < rows; r += 4) {
      let a0 = a + <usize>r * ak;
      let a1 = a0 + ak, a2 = a1 + ak, a3 = a2 + ak;
      let bp = b + (<usize>j << 2);
      let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
      for (let kk = 0; kk < k; kk++) {
        const b0 = v128.load(bp), b1 = v128.load(bp, 16);
        const x0 = v128.load32_splat(a0), x1 = v128.load32_splat(a1);
        const x2 = v128.load32_splat(a2), x3 = v128.load32_splat(a3);
        c00 = madd(x0, b0, c00); c01 = madd(x0, b1, c01);
        c10 = madd(x1, b0, c10); c11 = madd(x1, b1, c11);
        c20 = madd(x2, b0, c20); c21 = madd(x2, b1, c21);
        c30 = madd(x3, b0, c30); c31 = madd(x3, b1, c31);
        a0 += 4; a1 += 4; a2 += 4; a3 += 4; bp += bn;
      }
      const cp = c + ((<usize>(r * n + j)) << 2);
      st(cp, c00); st(cp + 16, c01);
      st(cp + bn, c10); st(cp + bn + 16, c11);
      st(cp + 2 * bn, c20); st(cp + 2 * bn + 16, c21);
      st(cp + 3 * bn, c30); st(cp + 3 * bn + 16, c31);
    }
  }
  if (j < n) {
    for (let r = 0; r < rows; r += 4) {
      let a0 = a + <usize>r * ak;
      let a1 = a0 + ak, a2 = a1 + ak, a3 = a2 + ak;
      let bp = b + (<usize>j << 2);
      let c0 = z, c1 = z, c2 = z, c3 = z;
      for (let kk = 0; kk < k; kk++) {
        const b0 = v128.load(bp);
        c0 = madd(v128.load32_splat(a0), b0, c0);
        c1 = madd(v128.load32_splat(a1), b0, c1);
        c2 = madd(v128.load32_splat(a2), b0, c2);
        c3 = madd(v128.load32_splat(a3), b0, c3);
        a0 += 4; a1 += 4; a2 += 4; a3 += 4; bp += bn;
      }
      const cp = c + ((<usize>(r * n + j)) << 2);
      st(cp, c0); st(cp + bn, c1); st(cp + 2 * bn, c2); st(cp + 3 * bn, c3);
    }
  }
}

/**
 * out[nb][oh][ow][co] ← the 3×3 convolution of x[nb][h][w][ci] (zero outside,
 * the output pixel (oy, ox) reading input rows oy − padT … oy − padT + 2)
 * with the filter transformed by transformFilter into u. ci and co are
 * multiples of 4, tb (tiles per block) of 4; `scratch` holds scratchBytes().
 */
export function conv3x3(
  m: i32, x: usize, nb: i32, h: i32, w: i32, ci: i32, u: usize, co: i32,
  oh: i32, ow: i32, padT: i32, padL: i32, out: usize, scratch: usize, tb: i32,
): void {
  const a = m + 2;
  const a2 = a * a;
  const th = (oh + m - 1) / m, tw = (ow + m - 1) / m;
  const perImage = th * tw;
  const total = nb * perImage;
  const vXi = <usize>(tb * ci) << 2; // V's stride between transform positions
  const mXi = <usize>(tb * co) << 2;
  const V = scratch;
  const M = V + <usize>a2 * vXi;
  const D = M + <usize>a2 * mXi; // one gathered edge tile, α×α vectors
  const T = D + <usize>a2 * 16; // the transform's intermediate, α×α vectors
  const uXi = <usize>(ci * co) << 2;
  const rowBytes = <usize>(w * ci) << 2;
  const outRow = <usize>(ow * co) << 2;
  const z = f32x4.splat(0);
  for (let t0 = 0; t0 < total; t0 += tb) {
    const n = min(tb, total - t0);
    const np = (n + 3) & ~3;
    // Input transform, tile by tile.
    for (let l = 0; l < n; l++) {
      const t = t0 + l;
      const b = t / perImage, r = t % perImage;
      const iy0 = (r / tw) * m - padT, ix0 = (r % tw) * m - padL;
      const inside = iy0 >= 0 && ix0 >= 0 && iy0 + a <= h && ix0 + a <= w;
      const tileBase = x + ((<usize>((b * h + iy0) * w + ix0) * <usize>ci) << 2);
      for (let c = 0; c < ci; c += 4) {
        let src: usize, rs: usize, cs: usize;
        if (inside) {
          src = tileBase + (<usize>c << 2); rs = rowBytes; cs = <usize>ci << 2;
        } else {
          for (let i = 0; i < a; i++) {
            const y = iy0 + i;
            for (let j = 0; j < a; j++) {
              const xx = ix0 + j;
              const v = y >= 0 && y < h && xx >= 0 && xx < w
                ? ld(x + ((<usize>((b * h + y) * w + xx) * <usize>ci + <usize>c) << 2)) : z;
              st(D + <usize>(i * a + j) * 16, v);
            }
          }
          src = D; rs = <usize>a * 16; cs = 16;
        }
        for (let j = 0; j < a; j++) {
          if (m == 4) bt6(src + <usize>j * cs, rs, T + <usize>j * 16, <usize>a * 16);
          else bt4(src + <usize>j * cs, rs, T + <usize>j * 16, <usize>a * 16);
        }
        const dst = V + ((<usize>(l * ci + c)) << 2);
        for (let i = 0; i < a; i++) {
          if (m == 4) bt6(T + <usize>(i * a) * 16, 16, dst + <usize>(i * a) * vXi, vXi);
          else bt4(T + <usize>(i * a) * 16, 16, dst + <usize>(i * a) * vXi, vXi);
        }
      }
    }
    // Rows past the last tile of the last block: zeros (never read back).
    for (let l = n; l < np; l++) {
      for (let xi = 0; xi < a2; xi++) memory.fill(V + <usize>xi * vXi + ((<usize>(l * ci)) << 2), 0, <usize>ci << 2);
    }
    // One product per transform position.
    for (let xi = 0; xi < a2; xi++) {
      gemm(V + <usize>xi * vXi, u + <usize>xi * uXi, M + <usize>xi * mXi, np, ci, co);
    }
    // Output transform, writing only the pixels inside the output.
    for (let l = 0; l < n; l++) {
      const t = t0 + l;
      const b = t / perImage, r = t % perImage;
      const oy0 = (r / tw) * m, ox0 = (r % tw) * m;
      const full = oy0 + m <= oh && ox0 + m <= ow;
      const pix = out + ((<usize>((b * oh + oy0) * ow + ox0) * <usize>co) << 2);
      for (let c = 0; c < co; c += 4) {
        const src = M + ((<usize>(l * co + c)) << 2);
        for (let j = 0; j < a; j++) {
          if (m == 4) at6(src + <usize>j * mXi, <usize>a * mXi, T + <usize>j * 16, <usize>a * 16);
          else at4(src + <usize>j * mXi, <usize>a * mXi, T + <usize>j * 16, <usize>a * 16);
        }
        if (full) {
          for (let i = 0; i < m; i++) {
            const d = pix + <usize>i * outRow + (<usize>c << 2);
            if (m == 4) at6(T + <usize>(i * a) * 16, 16, d, <usize>co << 2);
            else at4(T + <usize>(i * a) * 16, 16, d, <usize>co << 2);
          }
        } else {
          for (let i = 0; i < m; i++) {
            if (m == 4) at6(T + <usize>(i * a) * 16, 16, D + <usize>(i * m) * 16, 16);
            else at4(T + <usize>(i * a) * 16, 16, D + <usize>(i * m) * 16, 16);
          }
          const rows = min(m, oh - oy0), cols = min(m, ow - ox0);
          for (let i = 0; i < rows; i++) {
            for (let j = 0; j < cols; j++) {
              st(pix + <usize>i * outRow + ((<usize>(j * co + c)) << 2), ld(D + <usize>(i * m + j) * 16));
            }
          }
        }
      }
    }
  }
}
