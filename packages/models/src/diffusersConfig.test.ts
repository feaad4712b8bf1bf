import { describe, expect, it } from 'vitest';
import { resolveUNetConfig, unetPreset } from './config.js';
import { diffusersConfigOf, minDiffusersVersion } from './diffusersConfig.js';

const exported = (overrides: Record<string, unknown>) => {
  const r = diffusersConfigOf(resolveUNetConfig({ ...unetPreset('mnist-tiny'), ...overrides } as never));
  if ('reason' in r) throw new Error(r.reason);
  return r.config;
};

describe('the diffusers release an export names', () => {
  it('is the latest release that added a key the config sets away from the older behaviour', () => {
    // 8 time features, embedding 4 × 8, 11 class embeddings, no attention: num_class_embeds (0.13.0) is the newest key in use.
    expect(exported({ timeFeatureDim: 8, embedDim: 32 })._diffusers_version).toBe('0.13.0');
    // A wider embedding is time_embedding_dim, which diffusers reads from 0.32.0 on (0.21.4 and 0.30.0 build 4 × 8 and fail on the weights).
    const wide = exported({ timeFeatureDim: 8, embedDim: 64 });
    expect(wide.time_embedding_dim).toBe(64);
    expect(wide._diffusers_version).toBe('0.32.0');
    // Unconditional, without attention: add_attention = false (0.11.0).
    expect(exported({ timeFeatureDim: 8, embedDim: 32, numClasses: null })._diffusers_version).toBe('0.11.0');
    // Attention weights are written as to_q/to_k/to_v/to_out.0, the names from 0.17.0 on.
    expect(exported({ timeFeatureDim: 8, embedDim: 32, numClasses: null, midBlockAttention: true })._diffusers_version).toBe('0.17.0');
    expect(exported({ timeFeatureDim: 8, embedDim: 32, dropout: 0.1 })._diffusers_version).toBe('0.21.0');
    expect(minDiffusersVersion({ add_attention: false, mid_block_type: 'UNetMidBlock2D', num_train_timesteps: 1000 })).toBe('0.23.0');
  });
});
