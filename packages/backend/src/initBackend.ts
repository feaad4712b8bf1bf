import * as tf from '@tensorflow/tfjs';
import { registerTrainingKernels } from './registerTrainingKernels.js';

export type BackendPreference = 'auto' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface InitBackendOptions {
  /** Which backend to use; 'auto' takes the first that loads of tfjs-node-gpu, tfjs-node, wasm, cpu. */
  prefer?: BackendPreference;
  /** Threads for the backend's own kernels where it can use them (tfjs-node's and wasm's thread pools). */
  threads?: number;
  /** Do not print the one line saying which backend was chosen. */
  quiet?: boolean;
}

export interface BackendInfo {
  /** tfjs' name of the active backend: 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  /** Kernels this package registered on that backend. */
  kernels: string[];
  /** Threads the backend's kernels run on (wasm in Node: 1; use createDataParallel for more cores). */
  threads: number;
}

const PREFERENCES: readonly BackendPreference[] = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

type Attempt = { ok: true; info: BackendInfo } | { ok: false; reason: string };

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

function isNode(): boolean {
  return typeof process !== 'undefined' && process.versions?.node !== undefined;
}

async function tryTfjsNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node', threads: number | undefined): Promise<Attempt> {
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional peer.
    const specifier: string = pkg;
    await import(specifier);
  } catch (err) {
    return { ok: false, reason: `${pkg} could not be loaded (${message(err)}); install it with \`npm install ${pkg}\` on a platform it supports` };
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    return { ok: false, reason: `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs (are two versions of tfjs installed?)` };
  }
  if (!(await tf.setBackend('tensorflow'))) {
    return { ok: false, reason: `${pkg} loaded but its 'tensorflow' backend failed to initialise` };
  }
  const cores = isNode() ? (await import('node:os')).availableParallelism() : 1;
  return { ok: true, info: { name: 'tensorflow', kernels: [], threads: threads ?? cores } };
}

async function wasmDistDir(): Promise<string | undefined> {
  if (!isNode()) return undefined;
  try {
    const { createRequire } = await import('node:module');
    const { dirname } = await import('node:path');
    const require = createRequire(import.meta.url);
    return dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
  } catch {
    return undefined;
  }
}

async function tryWasm(threads: number | undefined): Promise<Attempt> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm could not be loaded (${message(err)})` };
  }
  if (tf.findBackendFactory('wasm') === null) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm registered no 'wasm' backend with this copy of @tensorflow/tfjs (are two versions of tfjs installed?)` };
  }
  const kernels = registerTrainingKernels();
  if (tf.getBackend() !== 'wasm') {
    // In Node the .wasm binaries sit next to the package's main file in node_modules.
    const dir = await wasmDistDir();
    try {
      if (dir !== undefined) wasm.setWasmPaths(dir);
      if (threads !== undefined) wasm.setThreadsCount(threads);
    } catch {
      // Already initialised once: the paths and threads it was given stay.
    }
    let ok = false;
    try {
      ok = await tf.setBackend('wasm');
    } catch (err) {
      return { ok: false, reason: `the wasm backend failed to initialise (${message(err)})` };
    }
    if (!ok) return { ok: false, reason: 'the wasm backend failed to initialise (is the .wasm binary reachable?)' };
  }
  let actual = 1;
  try { actual = wasm.getThreadsCount(); } catch { /* not initialised: keep 1 */ }
  return { ok: true, info: { name: 'wasm', kernels, threads: Math.max(1, actual) } };
}

async function tryCpu(): Promise<Attempt> {
  if (!(await tf.setBackend('cpu'))) return { ok: false, reason: "the cpu backend failed to initialise" };
  return { ok: true, info: { name: 'cpu', kernels: [], threads: 1 } };
}

function attempt(choice: Exclude<BackendPreference, 'auto'>, threads: number | undefined): Promise<Attempt> {
  switch (choice) {
    case 'tfjs-node-gpu': return tryTfjsNode('@tensorflow/tfjs-node-gpu', threads);
    case 'tfjs-node': return tryTfjsNode('@tensorflow/tfjs-node', threads);
    case 'wasm': return tryWasm(threads);
    case 'cpu': return tryCpu();
  }
}

/**
 * Chooses and initialises the TensorFlow.js backend. 'auto' tries, in order,
 * tfjs-node-gpu and tfjs-node (optional peer dependencies; a missing one is
 * skipped), then wasm with this package's training kernels, then cpu, and
 * prints one line naming the choice. An explicit `prefer` that cannot be met
 * throws, saying why.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const { prefer = 'auto', threads, quiet = false } = opts;
  if (!PREFERENCES.includes(prefer)) {
    throw new Error(`prefer must be one of ${PREFERENCES.map((p) => `'${p}'`).join(', ')}; got '${String(prefer)}'`);
  }
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`threads must be a positive integer; got ${threads}`);
  }
  const order: Exclude<BackendPreference, 'auto'>[] =
    prefer === 'auto' ? ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] : [prefer];
  const skipped: string[] = [];
  for (const choice of order) {
    const result = await attempt(choice, threads);
    if (result.ok) {
      await tf.ready();
      if (!quiet) {
        const extra = result.info.kernels.length > 0 ? ` + training kernels (${result.info.kernels.join(', ')})` : '';
        console.log(`@tfjs-diffusion/backend: using '${result.info.name}'${extra}, ${result.info.threads} thread${result.info.threads === 1 ? '' : 's'}`);
      }
      return result.info;
    }
    skipped.push(result.reason);
  }
  throw new Error(`prefer: '${prefer}' cannot be met: ${skipped.join('; ')}`);
}
