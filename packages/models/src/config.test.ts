import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { resolveUNetConfig, UNet, unetParameterCount, unetPreset } from './index.js';

describe('U-Net config checks', () => {
  it('refuses unknown options, naming the nearest known one', () => {
    expect(() => resolveUNetConfig({ channels: [8, 16] } as never)).toThrow(/unknown option "channels"; did you mean 'blockOutChannels'\?/);
    expect(() => resolveUNetConfig({ normEsp: 1e-5 } as never)).toThrow(/did you mean 'normEps'/);
    expect(() => resolveUNetConfig(null as never)).toThrow('UNet: the config must be an object; got null');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['normEps -1', { normEps: -1 }, /normEps must be a number in \(0, 1\).*got -1/],
    ['normEps as a string', { normEps: '1e-5' }, /normEps must be a number/],
    ['numClasses 1e9', { numClasses: 1e9 }, /numClasses must be an integer in \[1, 16777216\]; got 1000000000/],
    ['numClasses -3', { numClasses: -3 }, /numClasses must be an integer in \[1, 16777216\]; got -3/],
    ['blockOutChannels [100000]', { blockOutChannels: [100000] }, /blockOutChannels\[0\] must be an integer in \[1, 65536\]; got 100000/],
    ['sampleSize 100000', { sampleSize: 100000 }, /sampleSize must be an integer in \[1, 65536\]/],
    ['midBlockAttention "false"', { midBlockAttention: 'false' }, /midBlockAttention must be true or false; got "false"/],
  ])('refuses %s before allocating anything', (_, o, msg) => {
    const before = tf.memory().numTensors;
    expect(() => new UNet(o)).toThrow(msg);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('unetParameterCount equals the built model\'s count without allocating', () => {
    // mnist-ref: 1,624,577 parameters (the benchmark's reference network).
    expect(unetParameterCount(unetPreset('mnist-ref'))).toBe(1_624_577);
    for (const cfg of [unetPreset('mnist-tiny'), unetPreset('mnist-tiny', { blockOutChannels: [8, 8], numClasses: null, attentionResolutions: [14] })]) {
      const before = tf.memory().numTensors;
      const n = unetParameterCount(cfg);
      expect(tf.memory().numTensors).toBe(before);
      const m = new UNet(cfg);
      expect(n).toBe(m.numParameters());
      m.dispose();
    }
    // [4096] channels at 28×28: billions of bytes, known before any tensor exists.
    expect(unetParameterCount({ blockOutChannels: [4096], normNumGroups: 8, midBlockAttention: false })).toBeGreaterThan(5e8);
  });
});
