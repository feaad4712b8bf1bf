// The public types of initBackend: what to ask for and what was chosen.

/**
 * A backend to ask for. `'tensorflow'` is tfjs' name for the tfjs-node(-gpu)
 * backend: what `tf.getBackend()` returns there, so a worker or a caller can
 * hand it back.
 */
export type BackendPreference =
  | 'auto'
  | 'tfjs-node-gpu'
  | 'tfjs-node'
  | 'tensorflow'
  | 'webgpu'
  | 'webgl'
  | 'wasm'
  | 'cpu';

export interface InitBackendOptions {
  /**
   * Which backend to use. 'auto' takes the first that works of, in Node,
   * tfjs-node-gpu, tfjs-node, wasm, cpu; in a browser, webgpu, webgl, wasm,
   * cpu, passing over a GPU that is only emulated (SwiftShader, a fallback adapter).
   */
  prefer?: BackendPreference;
  /** Threads for the backend's own kernels where it has a pool (TensorFlow's; wasm's when multi-threaded). */
  threads?: number;
  /**
   * Where the wasm backend's `.wasm` files are served, handed to tfjs'
   * `setWasmPaths`: a directory URL ending in '/' or a map from file name
   * (`tfjs-backend-wasm.wasm`, `tfjs-backend-wasm-simd.wasm`,
   * `tfjs-backend-wasm-threaded-simd.wasm`) to URL. Default: next to the
   * script in a browser, the package's own folder in Node.
   */
  wasmPaths?: string | Record<string, string>;
  /** Do not print the one line saying which backend was chosen. */
  quiet?: boolean;
}

export interface SkippedBackend {
  backend: Exclude<BackendPreference, 'auto'>;
  reason: string;
}

export interface BackendInfo {
  /** tfjs' name of the active backend: 'tensorflow', 'webgpu', 'webgl', 'wasm' or 'cpu'. */
  name: string;
  /** Kernels this package registered on that backend. */
  kernels: string[];
  /** Threads the backend's kernels run on (wasm in Node: 1; use createDataParallel from '/node' for more cores). */
  threads: number;
  /** What was tried before the chosen backend and why it was not taken. */
  skipped: SkippedBackend[];
  /** Details of the choice, e.g. 'SIMD', 'not cross-origin isolated', 'software adapter'. */
  notes: string[];
}
