import { describe, expect, it } from 'vitest';
import { initBackend } from './index.js';
import { createDataParallel } from './node.js';
import { registerTensorflowStandIn } from './testing.js';

describe('backend refuses unknown options', () => {
  it('initBackend', async () => {
    await expect(initBackend({ bogus: 1 } as never)).rejects.toThrow("initBackend: unknown option 'bogus'. Accepted: 'prefer', 'threads', 'wasmPaths', 'quiet'");
    await expect(initBackend({ backend: 'wasm' } as never)).rejects.toThrow("initBackend: unknown option 'backend'; did you mean 'prefer'?");
    await expect(initBackend({ num_threads: 2 } as never)).rejects.toThrow("did you mean 'threads'?");
  });

  it('createDataParallel', async () => {
    await expect(createDataParallel({ module: 'm.js', init: {}, bogus: 1 } as never)).rejects.toThrow(
      "createDataParallel: unknown option 'bogus'. Accepted: 'module', 'init', 'threads', 'backend'",
    );
  });

  it('registerTensorflowStandIn', () => {
    expect(() => registerTensorflowStandIn({ bogus: 1 } as never)).toThrow("registerTensorflowStandIn: unknown option 'bogus'. Accepted: 'delegate'");
  });
});
