// One attempt per backend: set it up, or say why it was not taken.
import * as tf from '@tensorflow/tfjs';
import { registerCpuKernelFixes, registerTrainingKernels } from './registerTrainingKernels.js';
import { isNode, nodeCores, setNodeEnv } from './environment.js';
import { loadWasmKernels } from './kernels/wasm/loader.js';
import type { BackendInfo, BackendPreference, InitBackendOptions, SkippedBackend } from './backendTypes.js';

export type Choice = Exclude<BackendPreference, 'auto'>;
type Failure = { ok: false; skipped: SkippedBackend[] };
export type Attempt = { ok: true; info: Omit<BackendInfo, 'skipped'>; skipped?: SkippedBackend[] } | Failure;

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

const fail = (backend: Choice, reason: string): Failure => ({ ok: false, skipped: [{ backend, reason }] });

async function setBackendOr(name: string, backend: Choice, what: string): Promise<Failure | undefined> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (err) {
    return fail(backend, `${what} failed to initialise (${message(err)})`);
  }
  return ok ? undefined : fail(backend, `${what} failed to initialise`);
}

function tensorflowInfo(threads: number | undefined): Omit<BackendInfo, 'skipped'> {
  return {
    name: 'tensorflow',
    kernels: [],
    threads: threads ?? nodeCores() ?? 1,
    notes: ["TensorFlow's thread pool"],
  };
}

async function tryTfjsNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node', threads: number | undefined): Promise<Attempt> {
  const choice: Choice = pkg === '@tensorflow/tfjs-node' ? 'tfjs-node' : 'tfjs-node-gpu';
  if (!isNode()) return fail(choice, `${pkg} runs only in Node`);
  // libtensorflow sizes its intra-op pool from this variable when it starts.
  if (threads !== undefined) setNodeEnv('TF_NUM_INTRAOP_THREADS', String(threads));
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional peer.
    const specifier: string = pkg;
    await import(/* @vite-ignore */ specifier);
  } catch (err) {
    return fail(choice, `${pkg} could not be loaded (${message(err)}); install it with \`npm install ${pkg}\` on a platform it supports`);
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    return fail(choice, `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs (are two versions of tfjs installed?)`);
  }
  const bad = await setBackendOr('tensorflow', choice, `${pkg}'s 'tensorflow' backend`);
  return bad ?? { ok: true, info: tensorflowInfo(threads) };
}

/** tfjs-node's backend: the one already registered (by an import of tfjs-node), else tfjs-node-gpu, else tfjs-node. */
async function tryTensorflow(threads: number | undefined): Promise<Attempt> {
  if (tf.findBackendFactory('tensorflow') !== null) {
    const bad = await setBackendOr('tensorflow', 'tensorflow', "the registered 'tensorflow' backend");
    return bad ?? { ok: true, info: tensorflowInfo(threads) };
  }
  const skipped: SkippedBackend[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const) {
    const r = await tryTfjsNode(pkg, threads);
    if (r.ok) return { ...r, skipped };
    skipped.push(...r.skipped);
  }
  return { ok: false, skipped };
}

// Emulated GPUs (SwiftShader, WebGPU's fallback adapter) run the U-Net about a
// hundred times slower than wasm (bench/RESULTS.md): 'auto' passes over them.
const SOFTWARE = 'slower than wasm for training; ask for it with prefer';

function isSoftwareAdapter(a: { isFallbackAdapter?: boolean; info?: { architecture?: string; vendor?: string; description?: string } }): boolean {
  const info = a.info ?? {};
  return a.isFallbackAdapter === true || /swiftshader/i.test(`${info.architecture ?? ''} ${info.description ?? ''}`) || info.vendor === 'google';
}

/** WebGL's unmasked renderer string, e.g. 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))', or '' when hidden. */
function webglRenderer(): string {
  try {
    const g = globalThis as { document?: { createElement(t: 'canvas'): { getContext(k: string): unknown } }; OffscreenCanvas?: new (w: number, h: number) => { getContext(k: string): unknown } };
    const canvas = g.document ? g.document.createElement('canvas') : g.OffscreenCanvas ? new g.OffscreenCanvas(1, 1) : undefined;
    type GL = { getExtension(name: string): unknown; getParameter(p: number): unknown; RENDERER: number };
    const gl = (canvas?.getContext('webgl2') ?? canvas?.getContext('webgl')) as GL | null | undefined;
    if (!gl) return '';
    const info = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    // Free the probe's context now: browsers cap live WebGL contexts.
    (gl.getExtension('WEBGL_lose_context') as { loseContext(): void } | null)?.loseContext();
    return renderer;
  } catch {
    return '';
  }
}

async function tryWebgpu(auto: boolean): Promise<Attempt> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (gpu === undefined) return fail('webgpu', 'navigator.gpu is undefined (no WebGPU in this environment)');
  let adapter: { isFallbackAdapter?: boolean; info?: { architecture?: string; vendor?: string; description?: string } } | null;
  try {
    adapter = (await gpu.requestAdapter()) as typeof adapter;
  } catch (err) {
    return fail('webgpu', `requestAdapter() failed (${message(err)})`);
  }
  if (adapter === null) return fail('webgpu', 'requestAdapter() found no WebGPU adapter');
  const software = isSoftwareAdapter(adapter);
  if (software && auto) return fail('webgpu', `only a software WebGPU adapter, ${SOFTWARE}: 'webgpu'`);
  // An optional peer (17 MB installed): the page registers it by importing
  // '@tensorflow/tfjs-backend-webgpu', as with any tfjs backend package.
  if (tf.findBackendFactory('webgpu') === null) {
    return fail('webgpu', "@tensorflow/tfjs-backend-webgpu is not registered (install it and `import '@tensorflow/tfjs-backend-webgpu'` before initBackend)");
  }
  const bad = await setBackendOr('webgpu', 'webgpu', 'the webgpu backend');
  if (bad) return bad;
  // tfjs 4.22's webgpu backend has every kernel of the U-Net's gradient, and
  // they agree with cpu (backend.browser.test.ts): nothing to add.
  const kernels: string[] = [];
  const notes: string[] = [];
  if (software) notes.push('software adapter');
  return { ok: true, info: { name: 'webgpu', kernels, threads: 1, notes } };
}

async function tryWebgl(auto: boolean): Promise<Attempt> {
  const g = globalThis as { document?: unknown; OffscreenCanvas?: unknown };
  if (g.document === undefined && g.OffscreenCanvas === undefined) {
    return fail('webgl', 'no canvas (not a browser page or worker)');
  }
  const renderer = webglRenderer();
  const software = /swiftshader|llvmpipe|software/i.test(renderer);
  if (software && auto) return fail('webgl', `WebGL runs on a software renderer (${renderer}), ${SOFTWARE}: 'webgl'`);
  if (tf.findBackendFactory('webgl') === null) return fail('webgl', "@tensorflow/tfjs registered no 'webgl' backend");
  const bad = await setBackendOr('webgl', 'webgl', 'WebGL');
  if (bad) return bad;
  // Without float32 render targets tfjs stores tensors as fp16: gradients would be too coarse to train on.
  if (!tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) {
    return fail('webgl', 'WebGL cannot render to float32 textures (tensors would be fp16, too coarse for training)');
  }
  // As for webgpu: every gradient kernel is there and agrees with cpu.
  const kernels: string[] = [];
  const version = tf.env().getNumber('WEBGL_VERSION');
  return { ok: true, info: { name: 'webgl', kernels, threads: 1, notes: software ? [`WebGL ${version}`, 'software renderer'] : [`WebGL ${version}`] } };
}

async function tryWasm(threads: number | undefined, wasmPaths: InitBackendOptions['wasmPaths']): Promise<Attempt> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return fail('wasm', `@tensorflow/tfjs-backend-wasm could not be loaded (${message(err)})`);
  }
  if (tf.findBackendFactory('wasm') === null) {
    return fail('wasm', "@tensorflow/tfjs-backend-wasm registered no 'wasm' backend with this copy of @tensorflow/tfjs (are two versions of tfjs installed?)");
  }
  const kernels = registerTrainingKernels();
  if (tf.getBackend() !== 'wasm') {
    try {
      if (wasmPaths !== undefined) wasm.setWasmPaths(wasmPaths);
      if (threads !== undefined) wasm.setThreadsCount(threads);
    } catch {
      // Already initialised once: the paths and threads it was given stay.
    }
    const bad = await setBackendOr('wasm', 'wasm', `the wasm backend${wasmPaths === undefined ? '' : ` (wasmPaths ${JSON.stringify(wasmPaths)})`}`);
    if (bad) {
      const hint = isNode() ? '' : '; serve the .wasm files of @tensorflow/tfjs-backend-wasm/dist and pass their URL as wasmPaths';
      return { ok: false, skipped: bad.skipped.map((s) => ({ ...s, reason: s.reason + hint })) };
    }
  }
  let actual = 1;
  try { actual = wasm.getThreadsCount(); } catch { /* not initialised: keep 1 */ }
  const notes: string[] = [];
  if (tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) notes.push('SIMD');
  // This package's own wasm kernels (compiled once; the kernels that use them
  // fall back to tfjs' own when they are missing).
  try {
    const own = await loadWasmKernels();
    notes.push(own.variant === 'relaxed' ? 'own kernels with relaxed SIMD' : 'own kernels with plain SIMD');
  } catch (err) {
    notes.push(`own wasm kernels unavailable (${message(err)})`);
  }
  if (!isNode() && !tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')) {
    notes.push('single-threaded: the page is not cross-origin isolated (serve it with COOP same-origin and COEP require-corp)');
  }
  return { ok: true, info: { name: 'wasm', kernels, threads: Math.max(1, actual), notes } };
}

async function tryCpu(): Promise<Attempt> {
  const bad = await setBackendOr('cpu', 'cpu', 'the cpu backend');
  return bad ?? { ok: true, info: { name: 'cpu', kernels: registerCpuKernelFixes(), threads: 1, notes: [] } };
}

export function attempt(choice: Choice, opts: InitBackendOptions & { auto: boolean }): Promise<Attempt> {
  switch (choice) {
    case 'tfjs-node-gpu': return tryTfjsNode('@tensorflow/tfjs-node-gpu', opts.threads);
    case 'tfjs-node': return tryTfjsNode('@tensorflow/tfjs-node', opts.threads);
    case 'tensorflow': return tryTensorflow(opts.threads);
    case 'webgpu': return tryWebgpu(opts.auto);
    case 'webgl': return tryWebgl(opts.auto);
    case 'wasm': return tryWasm(opts.threads, opts.wasmPaths);
    case 'cpu': return tryCpu();
  }
}
