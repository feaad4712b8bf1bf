import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  checkModelFits, createModel, diffusersTensors, estimateModelBytes, fromDiffusers, loadWeights, MLPDenoiser, resolveMLPConfig,
  UNet, unetConfigFromDiffusers, unetPreset,
} from './index.js';

describe('models refuses unknown options', () => {
  const tiny = { sampleSize: 4, inChannels: 1, outChannels: 1, blockOutChannels: [4], layersPerBlock: 1, attentionResolutions: [], normNumGroups: 2, midBlockAttention: false };
  const bogus = { bogus: 1 } as never;
  const cases: [string, () => unknown][] = [
    ['UNet', () => new UNet(tiny, bogus)],
    ['MLPDenoiser', () => new MLPDenoiser({ dim: 2 }, bogus)],
    ['MLPDenoiser', () => resolveMLPConfig({ dim: 2, bogus: 1 } as never)],
    ['createModel', () => createModel({ kind: 'mlp', dim: 2 }, bogus)],
    ['loadWeights', () => loadWeights({ parameters: () => [] }, {}, bogus)],
    ['unetConfigFromDiffusers', () => unetConfigFromDiffusers({}, bogus)],
    ['diffusersTensors', () => diffusersTensors({}, new Uint8Array(0), bogus)],
    ['fromDiffusers', () => fromDiffusers({}, new Uint8Array(0), bogus)],
    ['estimateModelBytes', () => estimateModelBytes({ kind: 'mlp', dim: 2 } as never, bogus)],
    ['checkModelFits', () => checkModelFits({ kind: 'mlp', dim: 2 } as never, bogus)],
  ];
  it.each(cases)('%s', (name, call) => {
    const before = tf.memory().numTensors;
    expect(call).toThrow(`${name}: unknown option 'bogus'. Accepted: `);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the nearest option, in nested objects too', () => {
    expect(() => new MLPDenoiser({ dim: 2, hidden_dim: 8 } as never)).toThrow("MLPDenoiser: unknown option 'hidden_dim'; did you mean 'hidden'?");
    expect(() => fromDiffusers({}, new Uint8Array(0), { prediction_type: 'v' } as never)).toThrow(
      "fromDiffusers: unknown option 'prediction_type'; did you mean 'predictionType'?",
    );
    expect(() => checkModelFits({ kind: 'mlp', dim: 2 } as never, { limit: { bytes: 1e9, name: 'x' } } as never)).toThrow(
      "checkModelFits: unknown option 'limit.name'. Accepted in limit: 'bytes', 'what'",
    );
  });

  it('the U-Net config keeps its own message, now with the shared nearest key', () => {
    expect(() => unetPreset('mnist-tiny', { channels: [8, 16] } as never)).toThrow(/unknown option "channels"; did you mean 'blockOutChannels'\?/);
    expect(() => new UNet({ ...tiny, norm_num_groups: 2 } as never)).toThrow(/did you mean 'normNumGroups'\?/);
  });
});
