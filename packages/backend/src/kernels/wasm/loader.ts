// Loads the project's own WebAssembly kernels (built from packages/backend/wasm/
// by scripts/build-wasm.mjs and embedded as base64, so nothing is fetched).
import { isNode } from '../../environment.js';
import { wasmModuleSources } from './modules.generated.js';

// The slice of the WebAssembly JS API used here (the project compiles without DOM types).
/** A module's linear memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type WasmFn = (...args: number[]) => number | void;
interface WasmInstance { readonly exports: Record<string, unknown> }
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: Record<string, Record<string, unknown>>): Promise<WasmInstance>;
}
const webAssembly = (): WebAssemblyApi | undefined => (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** 'relaxed': built with relaxed SIMD (f32x4.relaxed_madd); 'simd': plain SIMD. */
export type WasmVariant = 'relaxed' | 'simd';

/** One instantiated module: its exports and its own linear memory, laid out by the caller above `base`. */
export class WasmKernelModule {
  readonly memory: WasmMemory;
  /** First byte free for the caller (64-byte aligned); the module's own data lies below. */
  readonly base: number;

  constructor(readonly name: string, readonly variant: WasmVariant, private readonly instance: WasmInstance) {
    const exp = instance.exports as { memory?: WasmMemory; heapStart?: () => number };
    if (typeof exp.memory?.grow !== 'function' || typeof exp.heapStart !== 'function') {
      throw new Error(`wasm module '${name}' must export its memory and heapStart() (re-export heapStart from ./lib/simd)`);
    }
    this.memory = exp.memory;
    this.base = exp.heapStart();
  }

  /** The module's exported functions. */
  get exports(): Record<string, WasmFn> {
    // besides functions a module exports only its memory, which callers never call
    return this.instance.exports as Record<string, WasmFn>;
  }

  /**
   * Grows the memory so that `bytes` bytes from `base` fit (it never shrinks,
   * so later calls reuse it) and returns `base`. Views of the memory taken
   * before a call that grows it are detached: take them after.
   */
  reserve(bytes: number): number {
    const need = this.base + bytes;
    const have = this.memory.buffer.byteLength;
    if (need > have) {
      const pages = Math.ceil((need - have) / 65536);
      try {
        this.memory.grow(pages);
      } catch (err) {
        throw new Error(`wasm module '${this.name}': cannot grow its memory to ${(need / 2 ** 20).toFixed(1)} MiB (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    return this.base;
  }

  f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }
}

function decode(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** In Node 20 relaxed SIMD is behind a V8 flag; it can be turned on before a module compiles. */
async function enableRelaxedSimdInNode(): Promise<void> {
  if (!isNode()) return;
  try {
    // A variable specifier keeps bundlers from resolving a Node built-in for a page.
    const specifier: string = 'node:v8';
    const v8 = (await import(/* @vite-ignore */ specifier)) as { setFlagsFromString(flag: string): void };
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // No flag: validation below finds relaxed SIMD missing and the plain build is used.
  }
}

export interface WasmKernels {
  /** Which variant `module()` hands out. */
  variant: WasmVariant;
  /** Variants this engine runs ('simd' always; 'relaxed' when it validates). */
  available: WasmVariant[];
  /** The instance of a module in the active variant (or the one asked for). */
  module(name: string, variant?: WasmVariant): WasmKernelModule;
}

let loading: Promise<WasmKernels> | undefined;
let loaded: WasmKernels | undefined;

async function load(): Promise<WasmKernels> {
  const wa = webAssembly();
  if (wa === undefined) throw new Error('this environment has no WebAssembly');
  await enableRelaxedSimdInNode();
  const names = Object.keys(wasmModuleSources);
  const bytes = names.map((n) => ({ simd: decode(wasmModuleSources[n]!.simd), relaxed: decode(wasmModuleSources[n]!.relaxed) }));
  const available: WasmVariant[] = [];
  if (bytes.every((b) => wa.validate(b.simd))) available.push('simd');
  else throw new Error('this engine does not run WebAssembly SIMD (the kernels need it)');
  if (bytes.every((b) => wa.validate(b.relaxed))) available.push('relaxed');
  const instances = new Map<string, WasmKernelModule>();
  // Async compile and instantiate: a page's main thread refuses sync compilation of modules over 4 KB.
  await Promise.all(names.flatMap((name, i) => available.map(async (variant) => {
    const compiled = await wa.compile(bytes[i]![variant]);
    const instance = await wa.instantiate(compiled, {
      env: { abort: () => { throw new Error(`wasm module '${name}' aborted`); } },
    });
    instances.set(`${name}/${variant}`, new WasmKernelModule(name, variant, instance));
  })));
  const kernels: WasmKernels = {
    variant: available.includes('relaxed') ? 'relaxed' : 'simd',
    available,
    module(name, variant = kernels.variant) {
      const m = instances.get(`${name}/${variant}`);
      if (m === undefined) {
        throw new Error(`no wasm module '${name}' in variant '${variant}' (modules: ${names.join(', ')}; variants here: ${available.join(', ')})`);
      }
      return m;
    },
  };
  return kernels;
}

/**
 * Compiles and instantiates every embedded module once (later calls return
 * the same object). In Node it first turns on relaxed SIMD; the relaxed build
 * is used when the engine validates it, else the plain-SIMD build.
 */
export function loadWasmKernels(): Promise<WasmKernels> {
  loading ??= load().then((k) => (loaded = k), (err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/** The loaded kernels, or undefined before `loadWasmKernels()` has resolved. */
export function wasmKernels(): WasmKernels | undefined {
  return loaded;
}

/** Selects the variant kernels use from now on (tests and benchmarks compare both). */
export function useWasmVariant(variant: WasmVariant): void {
  if (loaded === undefined) throw new Error('useWasmVariant: call loadWasmKernels() (or initBackend) first');
  if (!loaded.available.includes(variant)) {
    throw new Error(`variant must be one of ${loaded.available.map((v) => `'${v}'`).join(', ')} here; got '${String(variant)}'`);
  }
  loaded.variant = variant;
}
