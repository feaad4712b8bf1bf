import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { addLora, loraAdapters, loraModules, loraTrainable, MLPDenoiser, UNet, type LoraAdapter, type LoraPair } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const CFG = { sampleSize: 8, blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4, attentionHeads: 2, attentionResolutions: [4], numClasses: 3 };
const x = () => tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
const t = () => tf.tensor1d([10, 700], 'int32');
const out = (m: UNet): Float32Array => tf.tidy(() => m.predict(x(), t(), { classLabels: tf.tensor1d([0, 2], 'int32') }).dataSync() as Float32Array);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => Math.max(s, Math.abs(v - b[i]!)), 0);
const scaleOf = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));
const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

/** Gives every B random values, so the adapter changes the output. */
function randomizeB(a: LoraAdapter, seed = 9): void {
  a.pairs.forEach((p, i) => tf.tidy(() => p.B.assign(tf.randomNormal(p.B.shape, 0, 0.5, 'float32', seed + i))));
}

/**
 * The closed form, written out on host arrays: kernel[..., off + o] += w·(alpha/r)·Σ_r A[..., r]·B[r, o]
 * (A flattened to [k·k·in, r]), into a copy of the model (same seed).
 */
function mergedCopy(model: UNet, adapters: { a: LoraAdapter; w: number }[]): UNet {
  const copy = new UNet(model.config, { seed: 0 });
  const vars = new Map(copy.parameters().map((p) => [p.name, p.variable]));
  for (const src of model.parameters()) tf.tidy(() => vars.get(src.name)!.assign(src.variable));
  for (const { a, w } of adapters) {
    for (const p of a.pairs as LoraPair[]) {
      const kv = vars.get(`${p.module.layer}.kernel`)!;
      const k = Float32Array.from(kv.dataSync());
      const A = p.A.dataSync();
      const B = p.B.dataSync();
      const rows = A.length / p.rank;
      const { outFeatures: n, outOffset: off, layerOut } = p.module;
      for (let i = 0; i < rows; i++) {
        for (let o = 0; o < n; o++) {
          let s = 0;
          for (let r = 0; r < p.rank; r++) s += A[i * p.rank + r]! * B[r * n + o]!;
          k[i * layerOut + off + o]! += (w * p.alpha * s) / p.rank;
        }
      }
      tf.tidy(() => kv.assign(tf.tensor(k, kv.shape)));
    }
  }
  return copy;
}

describe('addLora', () => {
  it('targets the attention projections by default, under diffusers module names (q, k, v: thirds of one fused layer)', () => {
    const m = new UNet(CFG);
    const a = addLora(m, { rank: 2 });
    const names = a.pairs.map((p) => p.module.name);
    expect(names).toContain('down_blocks.1.attentions.0.to_q');
    expect(names).toContain('mid_block.attentions.0.to_out.0');
    expect(names.every((n) => /\.(to_q|to_k|to_v|to_out\.0)$/.test(n))).toBe(true);
    const k = a.pairs.find((p) => p.module.name === 'down_blocks.1.attentions.0.to_k')!;
    expect(k.module).toMatchObject({ layer: 'down.1.attn.0.qkv', kind: 'linear', inFeatures: 16, outFeatures: 16, outOffset: 16, layerOut: 48 });
    expect(k.A.shape).toEqual([1, 1, 16, 2]);
    expect(k.B.shape).toEqual([1, 1, 2, 16]);
    expect(a.numParameters()).toBe(a.pairs.length * 2 * 16 * 2);
    a.remove();
    m.dispose();
  });

  it('starts at B = 0: the output is the base output exactly, and base weights never change', () => {
    const m = new UNet(CFG);
    const before = out(m);
    const weights = m.parameters().map((p) => p.variable.dataSync().slice());
    const a = addLora(m, { rank: 4, targets: ['to_q', 'to_v', 'conv1', 'time_emb_proj', 'downsamplers.0.conv'] });
    expect(sameBits(out(m).map((v) => v + 0), before.map((v) => v + 0))).toBe(true);
    randomizeB(a);
    expect(maxDiff(out(m), before)).toBeGreaterThan(1e-3);
    m.parameters().forEach((p, i) => expect(sameBits(p.variable.dataSync(), weights[i]!)).toBe(true));
    a.remove();
    expect(sameBits(out(m), before)).toBe(true);
    m.dispose();
  });

  it('computes W + (alpha/r)·B·A on linear, fused q/k/v, 3×3, stride-2 and 1×1 convs; merge gives the same output; unmerge restores the base bit for bit', () => {
    const m = new UNet(CFG, { seed: 2 });
    const base = m.parameters().map((p) => p.variable.dataSync().slice());
    const a = addLora(m, { rank: 3, alpha: 6, targets: ['to_k', 'to_out.0', 'conv1', 'conv_shortcut', 'downsamplers.0.conv', 'time_emb_proj', 'linear_1'] });
    expect(new Set(a.pairs.map((p) => p.module.kind))).toEqual(new Set(['linear', 'conv']));
    randomizeB(a);
    const adapted = out(m);
    const ref = mergedCopy(m, [{ a, w: 1 }]);
    const want = out(ref);
    expect(maxDiff(adapted, want)).toBeLessThan(1e-5 * Math.max(1, scaleOf(want)));
    a.merge();
    expect(a.merged).toBe(true);
    expect(maxDiff(out(m), want)).toBeLessThan(1e-5 * Math.max(1, scaleOf(want)));
    expect(() => { a.weight = 2; }).toThrow(/unmerge it before changing its weight/);
    a.unmerge();
    m.parameters().forEach((p, i) => expect(sameBits(p.variable.dataSync(), base[i]!)).toBe(true));
    expect(sameBits(out(m), adapted)).toBe(true);
    a.remove();
    ref.dispose();
    m.dispose();
  });

  it('sums several adapters, each at its weight; merging and unmerging them in any order restores the base', () => {
    const m = new UNet(CFG, { seed: 4 });
    const base = m.parameters().map((p) => p.variable.dataSync().slice());
    const a = addLora(m, { rank: 2, name: 'a', weight: 0.5, targets: ['to_q', 'conv2'], seed: 1 });
    const b = addLora(m, { rank: 4, alpha: 2, name: 'b', weight: 2, targets: ['to_q', 'to_v'], seed: 2 });
    randomizeB(a, 1);
    randomizeB(b, 50);
    expect(loraAdapters(m).map((q) => q.name)).toEqual(['a', 'b']);
    const ref = mergedCopy(m, [{ a, w: 0.5 }, { a: b, w: 2 }]);
    const want = out(ref);
    expect(maxDiff(out(m), want)).toBeLessThan(1e-5 * Math.max(1, scaleOf(want)));
    a.merge();
    b.merge();
    expect(maxDiff(out(m), want)).toBeLessThan(1e-5 * Math.max(1, scaleOf(want)));
    a.unmerge();
    b.unmerge();
    m.parameters().forEach((p, i) => expect(sameBits(p.variable.dataSync(), base[i]!)).toBe(true));
    b.weight = 0;
    const onlyA = mergedCopy(m, [{ a, w: 0.5 }]);
    expect(maxDiff(out(m), out(onlyA))).toBeLessThan(1e-5 * Math.max(1, scaleOf(want)));
    expect(() => addLora(m, { rank: 1, name: 'a', targets: 'conv1' })).toThrow(/already has an adapter named 'a'/);
    a.remove();
    b.remove();
    expect(() => a.merge()).toThrow(/after remove/);
    [ref, onlyA, m].forEach((q) => q.dispose());
  });

  it('leaks no tensor when adapters are added, run, merged, unmerged and removed, or when a call throws', () => {
    const m = new UNet(CFG);
    const x0 = x();
    const t0 = t();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const a = addLora(m, { rank: 2, targets: ['to_q', 'conv1'], dropout: 0.2 });
      const b = addLora(m, { rank: 2, name: 'b', targets: ['to_v'] });
      const view = loraTrainable(m);
      tf.dispose([m.predict(x0, t0), view.predict(x0, t0, undefined, { training: true, seed: 3 })]);
      const { grads, value } = tf.variableGrads(() => tf.mean(view.predict(x0, t0, undefined, { training: true })) as tf.Scalar, a.parameters().map((p) => p.variable));
      tf.dispose([value, ...Object.values(grads)]);
      a.merge();
      tf.dispose(m.predict(x0, t0));
      b.merge();
      a.unmerge();
      expect(() => view.predict(x0, t0)).toThrow(/'b' is merged/);
      a.remove();
      b.remove();
      expect(tf.memory().numTensors).toBe(n0);
    }
    expect(() => addLora(m, { rank: 2, targets: ['nothing_here'] })).toThrow(/match no layer/);
    expect(() => addLora(m, { rank: 2, name: 'x y' })).toThrow(/name must be/);
    expect(tf.memory().numTensors).toBe(n0);
    expect(loraAdapters(m)).toEqual([]);
    tf.dispose([x0, t0]);
    m.dispose();
  });

  it('refuses bad options with the parameter and what is accepted', () => {
    const m = new UNet(CFG);
    expect(() => addLora(m, { rank: 2, ranks: 3 } as never)).toThrow(/unknown option 'ranks'; did you mean 'rank'/);
    expect(() => addLora(m, { rank: 0 })).toThrow(/rank must be a positive integer; got 0/);
    expect(() => addLora(m, { rank: 2, alpha: -1 })).toThrow(/alpha must be a positive number/);
    expect(() => addLora(m, { rank: 2, dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => addLora(m, { rank: 2, weight: NaN })).toThrow(/weight must be a finite number/);
    const mlp = new MLPDenoiser({ dim: 3, hidden: 8, layers: 1 });
    expect(() => addLora(mlp, { rank: 2 })).toThrow(/targets to_q, to_k, to_v, to_out.0 match no layer of this model; its layers: in, timeEmbed.0/);
    expect(() => loraTrainable(mlp)).toThrow(/no LoRA adapter/);
    mlp.dispose();
    m.dispose();
  });

  it('applies lora_dropout only in a training call through loraTrainable, with masks fixed by the call seed', () => {
    const m = new MLPDenoiser({ dim: 4, hidden: 16, layers: 2 }, { seed: 1 });
    const a = addLora(m, { rank: 2, dropout: 0.5, targets: ['fc1', 'fc2'] });
    randomizeB(a);
    const view = loraTrainable(m);
    const xs = tf.randomNormal([8, 1, 1, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const ts = tf.fill([8], 100, 'int32') as tf.Tensor1D;
    const run = (o?: { training: boolean; seed: number }) => tf.tidy(() => view.predict(xs, ts, undefined, o).dataSync());
    expect(run()).toEqual(tf.tidy(() => m.predict(xs, ts).dataSync()));
    expect(run({ training: true, seed: 1 })).toEqual(run({ training: true, seed: 1 }));
    expect(maxDiff(run({ training: true, seed: 1 }), run({ training: true, seed: 2 }))).toBeGreaterThan(1e-4);
    expect(maxDiff(run({ training: true, seed: 1 }), run())).toBeGreaterThan(1e-4);
    expect(view.parameters().map((p) => p.name)).toEqual(['blocks.0.fc1.lora_A.default', 'blocks.0.fc1.lora_B.default', 'blocks.0.fc2.lora_A.default', 'blocks.0.fc2.lora_B.default', 'blocks.1.fc1.lora_A.default', 'blocks.1.fc1.lora_B.default', 'blocks.1.fc2.lora_A.default', 'blocks.1.fc2.lora_B.default']);
    expect((view.config as { lora: unknown }).lora).toEqual([{ name: 'default', rank: 2, alpha: 2, dropout: 0.5, targets: ['blocks.0.fc1', 'blocks.0.fc2', 'blocks.1.fc1', 'blocks.1.fc2'] }]);
    tf.dispose([xs, ts]);
    a.remove();
    m.dispose();
  });

  it('a rank-2 adapter trained on the outputs of a known rank-2 weight change recovers it', () => {
    const cfg = { dim: 12, hidden: 12, layers: 1 };
    const m = new MLPDenoiser(cfg, { seed: 3 });
    const target = new MLPDenoiser(cfg, { seed: 3 });
    // ΔW = u vᵀ + u' v'ᵀ on the output layer [hidden, dim].
    const dW = tf.tidy(() => tf.add(
      tf.matMul(tf.randomNormal([12, 1], 0, 0.5, 'float32', 1), tf.randomNormal([1, 12], 0, 0.5, 'float32', 2)),
      tf.matMul(tf.randomNormal([12, 1], 0, 0.5, 'float32', 3), tf.randomNormal([1, 12], 0, 0.5, 'float32', 4)),
    ));
    const outK = target.parameters().find((p) => p.name === 'out.kernel')!.variable;
    tf.tidy(() => outK.assign(tf.add(outK, dW)));
    const a = addLora(m, { rank: 2, alpha: 4, targets: ['out'] });
    const opt = tf.train.adam(0.02);
    const vars = a.parameters().map((p) => p.variable);
    for (let s = 0; s < 400; s++) {
      const xs = tf.randomNormal([64, 1, 1, 12], 0, 1, 'float32', 100 + s) as tf.Tensor4D;
      const ts = tf.randomUniform([64], 0, 1000, 'int32', 200 + s) as tf.Tensor1D;
      const y = tf.tidy(() => target.predict(xs, ts));
      tf.dispose(opt.minimize(() => tf.mean(tf.square(tf.sub(m.predict(xs, ts), y))) as tf.Scalar, false, vars) ?? []);
      tf.dispose([xs, ts, y]);
    }
    const p = a.pairs[0]!;
    const got = tf.tidy(() => tf.mul(tf.matMul(p.A as tf.Tensor2D, p.B as tf.Tensor2D), p.alpha / p.rank).dataSync());
    const want = dW.dataSync();
    expect(maxDiff(got, want) / scaleOf(want)).toBeLessThan(0.02);
    opt.dispose();
    tf.dispose(dW);
    a.remove();
    [m, target].forEach((q) => q.dispose());
  });

  it('names an MLP\'s modules by its own layer names (no diffusers counterpart)', () => {
    const mlp = new MLPDenoiser({ dim: 3, hidden: 8, layers: 1 });
    expect(loraModules(mlp).map((q) => q.name)).toEqual(['in', 'timeEmbed.0', 'timeEmbed.1', 'blocks.0.fc1', 'blocks.0.emb', 'blocks.0.fc2', 'out']);
    mlp.dispose();
  });
});
