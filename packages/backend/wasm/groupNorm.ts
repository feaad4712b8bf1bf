// GroupNorm(+SiLU) forward and backward over NHWC float32 data, one sample at
// a time (a sample's activations stay in L2 between the passes). The formulas
// and the plain-TypeScript reference: src/kernels/groupNormMath.ts.
//
// Channels are a multiple of 4 (each pixel's channels are whole v128 lanes).
// Per-channel sums run in f32 lanes over blocks of BLOCK pixels and are folded
// into f64, so statistics over thousands of values keep fp32 accuracy.
//
// Scratch (at `s`, 8·C f64 + 8·C f32): see the offsets in `layout`.
import { madd } from './lib/simd';
export { heapStart } from './lib/simd';

const BLOCK: i32 = 32;

// sigmoid on four lanes as XNNPACK's rr2-p5 (wasmsimd): f = e/(1 + e) with
// e = exp(−|z|) = 2^n·p(r), n by the magic-bias trick (its low bits, shifted,
// are 2^n's exponent field), r = −|z| − n·ln2 in two steps, p of degree 5;
// f is 0 below exp's denormal cutoff; sigmoid(z) = z ≥ 0 ? 1 − f : f.
// @ts-ignore: decorator
@inline
function sigmoid(z: v128): v128 {
  const magic = f32x4.splat(12583039.0);
  const vz = f32x4.neg(f32x4.abs(z));
  let vn = madd(vz, f32x4.splat(1.4426950216293335), magic);
  const vs = i32x4.shl(vn, 23);
  vn = f32x4.sub(vn, magic);
  let vt = madd(vn, f32x4.splat(-0.693145751953125), vz);
  vt = madd(vn, f32x4.splat(-1.428606765330187e-6), vt);
  let vp = madd(f32x4.splat(0.008289290592074394), vt, f32x4.splat(0.04189782217144966));
  vp = madd(vp, vt, f32x4.splat(0.16667652130126953));
  vp = madd(vp, vt, f32x4.splat(0.4999915063381195));
  vp = madd(vp, vt, f32x4.splat(0.9999997019767761));
  vt = f32x4.mul(vt, vs);
  const ve = madd(vt, vp, vs);
  let vf = f32x4.div(ve, f32x4.add(ve, f32x4.splat(1.0)));
  vf = v128.andnot(vf, f32x4.lt(vz, f32x4.splat(-87.33654022216797)));
  return v128.bitselect(f32x4.sub(f32x4.splat(1.0), vf), vf, f32x4.ge(z, f32x4.splat(0.0)));
}

// Scratch offsets (bytes from s) for C channels.
// f64: sumA, sumB (per-sample sums), dgAcc, dbAcc (over the batch); f32: accA, accB (block sums), mean, rstd, k0, k1, k2.
// @ts-ignore: decorator
@inline function f64At(s: usize, c: i32, k: i32): usize { return s + ((<usize>(k * c)) << 3); }
// @ts-ignore: decorator
@inline function f32At(s: usize, c: i32, k: i32): usize { return s + ((<usize>(4 * c)) << 3) + ((<usize>(k * c)) << 2); }

function zeroF64(p: usize, n: i32): void { memory.fill(p, 0, <usize>n << 3); }

/** Folds the f32 block sums at `acc` into the f64 sums at `sum` and clears the block sums. */
function fold(acc: usize, sum: usize, c: i32): void {
  for (let i = 0; i < c; i++) {
    const a = acc + (<usize>i << 2);
    const d = sum + (<usize>i << 3);
    store<f64>(d, load<f64>(d) + <f64>load<f32>(a));
    store<f32>(a, 0);
  }
}

/** Per-channel mean and rstd (each channel gets its group's) of the sample at x. */
function stats(x: usize, P: i32, C: i32, G: i32, eps: f64, s: usize): void {
  const sum = f64At(s, C, 0);
  const acc = f32At(s, C, 0);
  const mean = f32At(s, C, 2);
  const rstd = f32At(s, C, 3);
  const cg = C / G;
  const n = <f64>(P * cg);
  zeroF64(sum, C);
  memory.fill(acc, 0, <usize>C << 2);
  for (let p0 = 0; p0 < P; p0 += BLOCK) {
    const p1 = min(P, p0 + BLOCK);
    for (let p = p0; p < p1; p++) {
      const row = x + ((<usize>(p * C)) << 2);
      for (let c = 0; c < C; c += 4) {
        const a = acc + (<usize>c << 2);
        v128.store(a, f32x4.add(v128.load(a), v128.load(row + (<usize>c << 2))));
      }
    }
    fold(acc, sum, C);
  }
  for (let g = 0; g < G; g++) {
    let t: f64 = 0;
    for (let c = g * cg; c < (g + 1) * cg; c++) t += load<f64>(sum + (<usize>c << 3));
    const m = <f32>(t / n);
    for (let c = g * cg; c < (g + 1) * cg; c++) store<f32>(mean + (<usize>c << 2), m);
  }
  zeroF64(sum, C);
  for (let p0 = 0; p0 < P; p0 += BLOCK) {
    const p1 = min(P, p0 + BLOCK);
    for (let p = p0; p < p1; p++) {
      const row = x + ((<usize>(p * C)) << 2);
      for (let c = 0; c < C; c += 4) {
        const o = <usize>c << 2;
        const d = f32x4.sub(v128.load(row + o), v128.load(mean + o));
        v128.store(acc + o, madd(d, d, v128.load(acc + o)));
      }
    }
    fold(acc, sum, C);
  }
  for (let g = 0; g < G; g++) {
    let t: f64 = 0;
    for (let c = g * cg; c < (g + 1) * cg; c++) t += load<f64>(sum + (<usize>c << 3));
    const r = <f32>(1.0 / Math.sqrt(t / n + eps));
    for (let c = g * cg; c < (g + 1) * cg; c++) store<f32>(rstd + (<usize>c << 2), r);
  }
}

/** y = act(γ·(x − μ)·r + β) for B samples of P pixels × C channels. */
export function groupNormForward(x: usize, gamma: usize, beta: usize, y: usize, B: i32, P: i32, C: i32, G: i32, eps: f64, silu: i32, s: usize): void {
  const mean = f32At(s, C, 2);
  const rstd = f32At(s, C, 3);
  const scale = f32At(s, C, 4);
  const shift = f32At(s, C, 5);
  for (let b = 0; b < B; b++) {
    const off = (<usize>(b * P * C)) << 2;
    stats(x + off, P, C, G, eps, s);
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      const k = load<f32>(gamma + o) * load<f32>(rstd + o);
      store<f32>(scale + o, k);
      store<f32>(shift + o, load<f32>(beta + o) - load<f32>(mean + o) * k);
    }
    const xs = x + off;
    const ys = y + off;
    for (let p = 0; p < P; p++) {
      const ro = (<usize>(p * C)) << 2;
      for (let c = 0; c < C; c += 4) {
        const o = <usize>c << 2;
        const z = madd(v128.load(xs + ro + o), v128.load(scale + o), v128.load(shift + o));
        if (silu) {
          v128.store(ys + ro + o, f32x4.mul(z, sigmoid(z)));
        } else {
          v128.store(ys + ro + o, z);
        }
      }
    }
  }
}

/** dx (B·P·C), dγ and dβ (C, sums over the batch) of Σ y·dy. */
export function groupNormBackward(
  x: usize, gamma: usize, beta: usize, dy: usize, dx: usize, dgamma: usize, dbeta: usize,
  B: i32, P: i32, C: i32, G: i32, eps: f64, silu: i32, s: usize,
): void {
  const sdz = f64At(s, C, 0);
  const sdzx = f64At(s, C, 1);
  const dgAcc = f64At(s, C, 2);
  const dbAcc = f64At(s, C, 3);
  const accA = f32At(s, C, 0);
  const accB = f32At(s, C, 1);
  const mean = f32At(s, C, 2);
  const rstd = f32At(s, C, 3);
  const kA = f32At(s, C, 4);
  const kB = f32At(s, C, 5);
  const kD = f32At(s, C, 6);
  const cg = C / G;
  const n = <f64>(P * cg);
  const one = f32x4.splat(1.0);
  zeroF64(dgAcc, C);
  zeroF64(dbAcc, C);
  for (let b = 0; b < B; b++) {
    const off = (<usize>(b * P * C)) << 2;
    const xs = x + off;
    const dys = dy + off;
    const dxs = dx + off;
    stats(xs, P, C, G, eps, s);
    zeroF64(sdz, C);
    zeroF64(sdzx, C);
    memory.fill(accA, 0, <usize>C << 2);
    memory.fill(accB, 0, <usize>C << 2);
    // dz (into dx for now) and its per-channel sums Σdz, Σdz·x̂.
    for (let p0 = 0; p0 < P; p0 += BLOCK) {
      const p1 = min(P, p0 + BLOCK);
      for (let p = p0; p < p1; p++) {
        const ro = (<usize>(p * C)) << 2;
        for (let c = 0; c < C; c += 4) {
          const o = <usize>c << 2;
          const xh = f32x4.mul(f32x4.sub(v128.load(xs + ro + o), v128.load(mean + o)), v128.load(rstd + o));
          let dz = v128.load(dys + ro + o);
          if (silu) {
            const z = madd(xh, v128.load(gamma + o), v128.load(beta + o));
            const sg = sigmoid(z);
            // silu'(z) = s·(1 + z·(1 − s))
            dz = f32x4.mul(dz, f32x4.mul(sg, madd(z, f32x4.sub(one, sg), one)));
          }
          v128.store(dxs + ro + o, dz);
          v128.store(accA + o, f32x4.add(v128.load(accA + o), dz));
          v128.store(accB + o, madd(dz, xh, v128.load(accB + o)));
        }
      }
      fold(accA, sdz, C);
      fold(accB, sdzx, C);
    }
    for (let g = 0; g < G; g++) {
      let m1: f64 = 0;
      let m2: f64 = 0;
      for (let c = g * cg; c < (g + 1) * cg; c++) {
        const gm = <f64>load<f32>(gamma + (<usize>c << 2));
        m1 += gm * load<f64>(sdz + (<usize>c << 3));
        m2 += gm * load<f64>(sdzx + (<usize>c << 3));
      }
      m1 /= n;
      m2 /= n;
      for (let c = g * cg; c < (g + 1) * cg; c++) {
        const o = <usize>c << 2;
        const r = <f64>load<f32>(rstd + o);
        store<f32>(kA + o, <f32>(r * <f64>load<f32>(gamma + o)));
        store<f32>(kB + o, <f32>(-r * r * m2));
        store<f32>(kD + o, <f32>(r * (r * <f64>load<f32>(mean + o) * m2 - m1)));
      }
    }
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 3;
      store<f64>(dgAcc + o, load<f64>(dgAcc + o) + load<f64>(sdzx + o));
      store<f64>(dbAcc + o, load<f64>(dbAcc + o) + load<f64>(sdz + o));
    }
    // dx = A·dz + B·x + D
    for (let p = 0; p < P; p++) {
      const ro = (<usize>(p * C)) << 2;
      for (let c = 0; c < C; c += 4) {
        const o = <usize>c << 2;
        const t = madd(v128.load(kB + o), v128.load(xs + ro + o), v128.load(kD + o));
        v128.store(dxs + ro + o, madd(v128.load(kA + o), v128.load(dxs + ro + o), t));
      }
    }
  }
  for (let c = 0; c < C; c++) {
    store<f32>(dgamma + (<usize>c << 2), <f32>load<f64>(dgAcc + (<usize>c << 3)));
    store<f32>(dbeta + (<usize>c << 2), <f32>load<f64>(dbAcc + (<usize>c << 3)));
  }
}

/** Scratch bytes the two functions need for C channels. */
export function scratchBytes(C: i32): i32 {
  return 8 * 4 * C + 4 * 8 * C;
}
