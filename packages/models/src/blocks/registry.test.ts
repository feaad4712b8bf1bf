import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveUNetConfig, type UNetOptions } from '../config.js';
import { UNet, unetParameterShapes } from '../unet.js';
import { midBlock2D } from './midBlock2D.js';
import { DOWN_BLOCKS, DOWN_BLOCK_TYPES, MID_BLOCKS, UP_BLOCKS, UP_BLOCK_TYPES } from './registry.js';
import type { Declare } from './types.js';
import { upLayers } from './upBlock2D.js';

const opts: UNetOptions = {
  sampleSize: 8, blockOutChannels: [4, 8], layersPerBlock: 1, normNumGroups: 2, embedDim: 8, numClasses: 2,
  downBlockTypes: ['AttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'AttnUpBlock2D'],
};

const declared = (declare: (create: Declare) => void) => {
  const out: string[] = [];
  declare((name, shape) => out.push(`${name}:${shape}`));
  return out;
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('block registry', () => {
  it('is the source of the accepted block types', () => {
    expect(DOWN_BLOCK_TYPES).toEqual(Object.keys(DOWN_BLOCKS));
    expect(UP_BLOCK_TYPES).toEqual(Object.keys(UP_BLOCKS));
    expect(() => resolveUNetConfig({ ...opts, downBlockTypes: ['DownBlock2D', 'SimpleCrossAttnDownBlock2D' as never] })).toThrow(
      /downBlockTypes\[1\] must be one of 'DownBlock2D', 'AttnDownBlock2D', 'CrossAttnDownBlock2D'; got/,
    );
  });

  it("each block declares, under its prefix and in order, the U-Net's parameters", () => {
    const c = resolveUNetConfig(opts);
    const all = unetParameterShapes(opts).map((p) => `${p.name}:${p.shape}`);
    const under = (prefix: string) => all.filter((n) => n.startsWith(`${prefix}.`));
    const down0 = DOWN_BLOCKS.AttnDownBlock2D({ prefix: 'down.0', level: 0, inChannels: 4, outChannels: 4, numLayers: 1, addDownsample: true, config: c });
    expect(declared((d) => down0.declare(d))).toEqual(under('down.0'));
    expect(under('down.0').some((n) => n.startsWith('down.0.attn.0.'))).toBe(true);
    expect(down0.skipChannels).toEqual([4, 4]);
    const down1 = DOWN_BLOCKS.DownBlock2D({ prefix: 'down.1', level: 1, inChannels: 4, outChannels: 8, numLayers: 1, addDownsample: false, config: c });
    expect(declared((d) => down1.declare(d))).toEqual(under('down.1'));
    expect(declared((d) => midBlock2D({ prefix: 'mid', level: 1, channels: 8, attention: true, config: c }).declare(d))).toEqual(under('mid'));
    // Going up, layer i takes the skips in the reverse of the order they were left.
    const up1 = UP_BLOCKS.UpBlock2D({ prefix: 'up.1', level: 1, inChannels: 8, skipChannels: [8, 4], outChannels: 8, numLayers: 2, addUpsample: true, config: c });
    expect(declared((d) => up1.declare(d))).toEqual(under('up.1'));
    const up0 = UP_BLOCKS.AttnUpBlock2D({ prefix: 'up.0', level: 0, inChannels: 8, skipChannels: [4, 4], outChannels: 4, numLayers: 2, addUpsample: false, config: c });
    expect(declared((d) => up0.declare(d))).toEqual(under('up.0'));
    const m = new UNet(opts);
    expect(m.parameters().map((p) => `${p.name}:${p.variable.shape}`)).toEqual(all);
    m.dispose();
  });

  it('refuses an up block whose skips do not match its layers, naming the block', () => {
    const c = resolveUNetConfig(opts);
    expect(() => upLayers({ prefix: 'up.1', level: 1, inChannels: 8, skipChannels: [8], outChannels: 8, numLayers: 2, addUpsample: true, config: c })).toThrow(
      'up.1: 2 layers need 2 skips; got 1',
    );
  });

  it('cross-attention blocks declare a transformer under their prefix, read encoderHiddenStates, and need crossAttentionDim', () => {
    const cross: UNetOptions = { ...opts, downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'], midBlockType: 'UNetMidBlock2DCrossAttn' };
    expect(() => resolveUNetConfig(cross)).toThrow(/CrossAttnDownBlock2D needs crossAttentionDim/);
    const c = resolveUNetConfig({ ...cross, crossAttentionDim: 6, attentionHeads: [2, 4] });
    const all = unetParameterShapes(c).map((p) => `${p.name}:${p.shape}`);
    const down0 = DOWN_BLOCKS.CrossAttnDownBlock2D({ prefix: 'down.0', level: 0, inChannels: 4, outChannels: 4, numLayers: 1, addDownsample: true, config: c });
    expect(declared((d) => down0.declare(d))).toEqual(all.filter((n) => n.startsWith('down.0.')));
    expect(down0.reads).toEqual(['encoderHiddenStates']);
    expect(all).toContain('down.0.transformer.0.blocks.0.attn2.k.kernel:6,4');
    expect(all).toContain('mid.transformer.blocks.0.ff.proj.kernel:8,64');
    const up0 = UP_BLOCKS.CrossAttnUpBlock2D({ prefix: 'up.0', level: 0, inChannels: 8, skipChannels: [4, 4], outChannels: 4, numLayers: 2, addUpsample: false, config: c });
    expect(up0.reads).toEqual(['encoderHiddenStates']);
    expect(MID_BLOCKS.UNetMidBlock2DCrossAttn({ prefix: 'mid', level: 1, channels: 8, attention: true, config: c }).reads).toEqual(['encoderHiddenStates']);
    const m = new UNet(c);
    const x = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    const t = tf.tensor1d([1, 2]);
    const s = tf.randomNormal([2, 3, 6]) as tf.Tensor3D;
    expect(m.predict(x, t, { encoderHiddenStates: s }).shape).toEqual([2, 8, 8, 1]);
    const before = tf.memory().numTensors;
    expect(() => m.predict(x, t)).toThrow(/pass cond.encoderHiddenStates \[batch, length, 6\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, s]);
    m.dispose();
  });
});
