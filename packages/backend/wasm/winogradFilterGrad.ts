// Winograd filter gradient of a 3×3 stride-1 NHWC convolution (AssemblyScript,
// WebAssembly SIMD). The algorithm and its matrices are those of
// packages/backend/src/kernels/winogradFilterGradReference.ts (F(3,2): m = 2,
// n = 4; F(3,4): m = 4, n = 6):
//   per tile t of m×m dy pixels and its n×n window of x,
//   U_t = Bᵀ x B (4 input channels a vector), V_t = G dy Gᵀ (8 output channels
//   two vectors), M[pos] += U_t[pos] ⊗ V_t[pos] for each of the n² positions,
//   and once at the end dW = Aᵀ M A.
// Tiles are processed in chunks: a chunk's U and V stay in cache while the n²
// products [Ci × chunk]·[chunk × Co] run on a 4×8 register-blocked micro-kernel.
//
// Layouts (bytes; Ci4 = Ci rounded up to 4, Co8 = Co rounded up to 8,
// nb = Ci4 / 4, cb = Co8 / 8):
//   U   [pos][nb][chunk][4 lanes]
//   V   [pos][cb][chunk][8 lanes]
//   acc [pos][nb][cb][4 ci][8 co]
// The caller copies x and dy in with their zero padding (every tile is then
// whole: no bounds checks here). Lanes past Ci (Co) read whatever follows in
// memory (the caller leaves 32 bytes of slack after x and dy); they only reach
// rows (columns) of M that the final transform never stores.

import { madd } from "./lib/simd";
export { heapStart } from "./lib/simd";

// @ts-ignore: decorator
@inline function vload(p: usize): v128 { return v128.load(p); }
// @ts-ignore: decorator
@inline function vstore(p: usize, v: v128): void { v128.store(p, v); }

/** Bᵀ of F(3,2) on 4 vectors read at src + k·ss, written at dst + k·ds. */
// @ts-ignore: decorator
@inline function bt4(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = vload(src), d1 = vload(src + ss), d2 = vload(src + 2 * ss), d3 = vload(src + 3 * ss);
  vstore(dst, f32x4.sub(d0, d2));
  vstore(dst + ds, f32x4.add(d1, d2));
  vstore(dst + 2 * ds, f32x4.sub(d2, d1));
  vstore(dst + 3 * ds, f32x4.sub(d3, d1));
}

/** Bᵀ of F(3,4) on 6 vectors. */
// @ts-ignore: decorator
@inline function bt6(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = vload(src), d1 = vload(src + ss), d2 = vload(src + 2 * ss);
  const d3 = vload(src + 3 * ss), d4 = vload(src + 4 * ss), d5 = vload(src + 5 * ss);
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  // r0 = 4d0 − 5d2 + d4
  vstore(dst, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4));
  // r1 = 4(d1 + d2) − (d3 + d4); r2 = 4(d2 − d1) + (d3 − d4)
  vstore(dst + ds, f32x4.sub(f32x4.mul(four, f32x4.add(d1, d2)), f32x4.add(d3, d4)));
  vstore(dst + 2 * ds, f32x4.add(f32x4.mul(four, f32x4.sub(d2, d1)), f32x4.sub(d3, d4)));
  // r3 = 2(d3 − d1) + (d4 − d2); r4 = 2(d1 − d3) + (d4 − d2)
  const e = f32x4.sub(d4, d2);
  const f = f32x4.mul(two, f32x4.sub(d3, d1));
  vstore(dst + 3 * ds, f32x4.add(f, e));
  vstore(dst + 4 * ds, f32x4.sub(e, f));
  // r5 = 4d1 − 5d3 + d5
  vstore(dst + 5 * ds, f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5));
}

/** G of F(3,2) on 2 vectors → 4. */
// @ts-ignore: decorator
@inline function g2(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = vload(src), d1 = vload(src + ss);
  vstore(dst, d0);
  vstore(dst + ds, f32x4.add(d0, d1));
  vstore(dst + 2 * ds, f32x4.sub(d0, d1));
  vstore(dst + 3 * ds, d1);
}

/** G of F(3,4) on 4 vectors → 6 (evaluation at 0, 1, −1, 2, −2, ∞). */
// @ts-ignore: decorator
@inline function g4(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = vload(src), d1 = vload(src + ss), d2 = vload(src + 2 * ss), d3 = vload(src + 3 * ss);
  const e = f32x4.add(d0, d2), o = f32x4.add(d1, d3);
  const e2 = f32x4.add(d0, f32x4.mul(f32x4.splat(4), d2));
  const o2 = f32x4.add(f32x4.mul(f32x4.splat(2), d1), f32x4.mul(f32x4.splat(8), d3));
  vstore(dst, d0);
  vstore(dst + ds, f32x4.add(e, o));
  vstore(dst + 2 * ds, f32x4.sub(e, o));
  vstore(dst + 3 * ds, f32x4.add(e2, o2));
  vstore(dst + 4 * ds, f32x4.sub(e2, o2));
  vstore(dst + 5 * ds, d3);
}

/** Aᵀ of F(3,2) on 4 vectors → 3 (scales 1, ½, ½, 1 folded in). */
// @ts-ignore: decorator
@inline function at4(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = vload(src), m1 = vload(src + ss), m2 = vload(src + 2 * ss), m3 = vload(src + 3 * ss);
  const half = f32x4.splat(0.5);
  const s = f32x4.mul(half, f32x4.add(m1, m2));
  vstore(dst, f32x4.add(m0, s));
  vstore(dst + ds, f32x4.mul(half, f32x4.sub(m1, m2)));
  vstore(dst + 2 * ds, f32x4.add(s, m3));
}

/** Aᵀ of F(3,4) on 6 vectors → 3 (scales 4, 6, 6, 24, 24, 1 folded in). */
// @ts-ignore: decorator
@inline function at6(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = vload(src), m1 = vload(src + ss), m2 = vload(src + 2 * ss);
  const m3 = vload(src + 3 * ss), m4 = vload(src + 4 * ss), m5 = vload(src + 5 * ss);
  const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2);
  const s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
  const sixth = f32x4.splat(<f32>(1.0 / 6.0));
  // y0 = m0/4 + s12/6 + s34/24; y1 = d12/6 + d34/12; y2 = (s12 + s34)/6 + m5
  vstore(dst, f32x4.add(f32x4.add(f32x4.mul(f32x4.splat(0.25), m0), f32x4.mul(sixth, s12)), f32x4.mul(f32x4.splat(<f32>(1.0 / 24.0)), s34)));
  vstore(dst + ds, f32x4.add(f32x4.mul(sixth, d12), f32x4.mul(f32x4.splat(<f32>(1.0 / 12.0)), d34)));
  vstore(dst + 2 * ds, f32x4.add(f32x4.mul(sixth, f32x4.add(s12, s34)), m5));
}

/**
 * U columns of one tile: the x window's element (i, j) at src + i·rs + j·cs
 * (nb blocks of 4 channels, 16 bytes apart) → U at ub + c·cstride + pos·uPos.
 */
function transformX(m: i32, src: usize, rs: usize, cs: usize, nb: i32, ub: usize, cstride: usize, uPos: usize, tmp: usize): void {
  const n = <usize>(m + 2);
  const rowStride = n << 4;
  for (let c = 0; c < nb; c++) {
    const s = src + (<usize>c << 4);
    const d = ub + <usize>c * cstride;
    if (m == 2) {
      for (let j: usize = 0; j < 4; j++) bt4(s + j * cs, rs, tmp + (j << 4), rowStride);
      for (let i: usize = 0; i < 4; i++) bt4(tmp + i * rowStride, 16, d + i * 4 * uPos, uPos);
    } else {
      for (let j: usize = 0; j < 6; j++) bt6(s + j * cs, rs, tmp + (j << 4), rowStride);
      for (let i: usize = 0; i < 6; i++) bt6(tmp + i * rowStride, 16, d + i * 6 * uPos, uPos);
    }
  }
}

/**
 * V columns of one tile: the dy tile's element (i, j) at src + i·rs + j·cs
 * (nq blocks of 4 channels) → V at vb + (q>>1)·cstride + (q&1)·16 + pos·vPos.
 */
function transformDy(m: i32, src: usize, rs: usize, cs: usize, nq: i32, vb: usize, cstride: usize, vPos: usize, tmp: usize): void {
  const mm = <usize>m;
  const rowStride = mm << 4;
  for (let q = 0; q < nq; q++) {
    const s = src + (<usize>q << 4);
    const d = vb + <usize>(q >> 1) * cstride + (<usize>(q & 1) << 4);
    if (m == 2) {
      for (let j: usize = 0; j < 2; j++) g2(s + j * cs, rs, tmp + (j << 4), rowStride);
      for (let i: usize = 0; i < 4; i++) g2(tmp + i * rowStride, 16, d + i * 4 * vPos, vPos);
    } else {
      for (let j: usize = 0; j < 4; j++) g4(s + j * cs, rs, tmp + (j << 4), rowStride);
      for (let i: usize = 0; i < 6; i++) g4(tmp + i * rowStride, 16, d + i * 6 * vPos, vPos);
    }
  }
}

/** acc[4 ci][8 co] += Σ_k u[k][ci] · v[k][co] over len steps (the cost of the whole kernel). */
function microKernel(a: usize, pu: usize, pv: usize, len: i32): void {
  let c00 = vload(a), c01 = vload(a + 16), c10 = vload(a + 32), c11 = vload(a + 48);
  let c20 = vload(a + 64), c21 = vload(a + 80), c30 = vload(a + 96), c31 = vload(a + 112);
  for (let k = 0; k < len; k++) {
    const v0 = vload(pv), v1 = vload(pv + 16);
    const u0 = v128.load32_splat(pu), u1 = v128.load32_splat(pu, 4);
    c00 = madd(u0, v0, c00); c01 = madd(u0, v1, c01);
    c10 = madd(u1, v0, c10); c11 = madd(u1, v1, c11);
    const u2 = v128.load32_splat(pu, 8), u3 = v128.load32_splat(pu, 12);
    c20 = madd(u2, v0, c20); c21 = madd(u2, v1, c21);
    c30 = madd(u3, v0, c30); c31 = madd(u3, v1, c31);
    pu += 16;
    pv += 32;
  }
  vstore(a, c00); vstore(a + 16, c01); vstore(a + 32, c10); vstore(a + 48, c11);
  vstore(a + 64, c20); vstore(a + 80, c21); vstore(a + 96, c30); vstore(a + 112, c31);
}

// @ts-ignore: decorator
@inline function roundUp(v: i32, k: i32): i32 { return (v + k - 1) / k * k; }

/** Bytes of work memory filterGrad needs (16-byte aligned pieces). */
export function workBytes(m: i32, ci: i32, co: i32, chunk: i32): usize {
  const n = <usize>(m + 2);
  const ci4 = <usize>roundUp(ci, 4), co8 = <usize>roundUp(co, 8);
  return 2 * TMP_BYTES
    + n * n * ci4 * <usize>chunk * 4 + n * n * co8 * <usize>chunk * 4 + n * n * ci4 * co8 * 4;
}

const TMP_BYTES: usize = 6 * 6 * 16;

/**
 * dW [3, 3, Ci, Co] at `out` from x and dy laid out by the caller with their
 * zero padding in place: x [B, tilesH·m + 2, tilesW·m + 2, Ci] (the image at
 * its padding offset, zeros around it) and dy [B, tilesH·m, tilesW·m, Co]
 * (zeros past its last row and column), each followed by 32 bytes of slack.
 * m = 2 or 4 picks F(3,m). `work` holds workBytes(m, Ci, Co, chunk) bytes.
 */
export function filterGrad(
  m: i32, x: usize, dy: usize, out: usize, work: usize,
  B: i32, Ci: i32, Co: i32, tilesH: i32, tilesW: i32, chunk: i32,
): void {
  const n = m + 2;
  const nn = <usize>(n * n);
  const ci4 = roundUp(Ci, 4), co8 = roundUp(Co, 8);
  const nb = ci4 >> 2, cb = co8 >> 3;
  const chunkU = <usize>chunk;
  // carve the work area
  const tmp = work;
  const tmp2 = tmp + TMP_BYTES;
  const U = tmp2 + TMP_BYTES;
  const V = U + nn * <usize>ci4 * chunkU * 4;
  const acc = V + nn * <usize>co8 * chunkU * 4;
  const accBytes = nn * <usize>ci4 * <usize>co8 * 4;
  memory.fill(acc, 0, accBytes);

  const uC = chunkU << 4;            // U: between channel blocks
  const uPos = <usize>nb * uC;       // U: between positions
  const vC = chunkU << 5;            // V: between output-channel blocks
  const vPos = <usize>cb * vC;       // V: between positions
  const xPix = <usize>Ci << 2, dyPix = <usize>Co << 2;
  const xRow = <usize>(tilesW * m + 2) * xPix, dyRow = <usize>(tilesW * m) * dyPix;
  const xImage = <usize>(tilesH * m + 2) * xRow, dyImage = <usize>(tilesH * m) * dyRow;
  const xStep = <usize>m * xPix, dyStep = <usize>m * dyPix;
  const tiles = B * tilesH * tilesW;

  // the tile after (b, th, tw) in row-major order, as pointers into x and dy
  let b = 0, th = 0, tw = 0;
  let xs = x, ds = dy;
  for (let t0 = 0; t0 < tiles; t0 += chunk) {
    const len = min(chunk, tiles - t0);
    for (let tc = 0; tc < len; tc++) {
      transformX(m, xs, xRow, xPix, nb, U + (<usize>tc << 4), uC, uPos, tmp);
      transformDy(m, ds, dyRow, dyPix, co8 >> 2, V + (<usize>tc << 5), vC, vPos, tmp);
      if (++tw < tilesW) {
        xs += xStep;
        ds += dyStep;
      } else {
        tw = 0;
        if (++th == tilesH) { th = 0; b++; }
        xs = x + <usize>b * xImage + <usize>(th * m) * xRow;
        ds = dy + <usize>b * dyImage + <usize>(th * m) * dyRow;
      }
    }
  // M[pos] += U[pos]ᵀ-chunk · V[pos]-chunk
    for (let pos: usize = 0; pos < nn; pos++) {
      for (let c = 0; c < nb; c++) {
        const pu = U + pos * uPos + <usize>c * uC;
        for (let k = 0; k < cb; k++) {
          const a = acc + ((pos * <usize>nb + <usize>c) * <usize>cb + <usize>k) * 128;
          microKernel(a, pu, V + pos * vPos + <usize>k * vC, len);
        }
      }
    }
  }

  // dW = Aᵀ M A per (ci, co), 4 output channels a vector
  const aPos = <usize>(nb * cb) * 128;
  const outCo = <usize>Co << 2;
  for (let c = 0; c < nb; c++) {
    for (let r = 0; r < 4; r++) {
      const ci = c * 4 + r;
      if (ci >= Ci) break;
      for (let q = 0; q < (co8 >> 2); q++) {
        const co0 = q * 4;
        if (co0 >= Co) break;
        const src = acc + (<usize>(c * cb + (q >> 1))) * 128 + (<usize>r << 5) + (<usize>(q & 1) << 4);
        const rowStride = <usize>n << 4;
        if (m == 2) {
          for (let j: usize = 0; j < 4; j++) at4(src + j * aPos, 4 * aPos, tmp + (j << 4), rowStride);
          for (let k: usize = 0; k < 3; k++) at4(tmp + k * rowStride, 16, tmp2 + k * 48, 16);
        } else {
          for (let j: usize = 0; j < 6; j++) at6(src + j * aPos, 6 * aPos, tmp + (j << 4), rowStride);
          for (let k: usize = 0; k < 3; k++) at6(tmp + k * rowStride, 16, tmp2 + k * 48, 16);
        }
        for (let k = 0; k < 9; k++) {
          const dst = out + (<usize>(k * Ci + ci)) * outCo + (<usize>co0 << 2);
          const v = vload(tmp2 + (<usize>k << 4));
          if (co0 + 4 <= Co) vstore(dst, v);
          else {
            store<f32>(dst, f32x4.extract_lane(v, 0));
            if (co0 + 1 < Co) store<f32>(dst + 4, f32x4.extract_lane(v, 1));
            if (co0 + 2 < Co) store<f32>(dst + 8, f32x4.extract_lane(v, 2));
          }
        }
      }
    }
  }
}
