// The tensors and alphas of a diffusers LoRA file, grouped by module, before any model is seen.
import { showValue } from '@tfjs-diffusion/schedules';
import { decodeSafetensors, type SafetensorsTensor } from '../safetensors.js';

/** One module's pair as the file holds it (PyTorch layout), with the keys it came from. */
export interface FilePair {
  module: string;
  keyA: string;
  keyB: string;
  A: SafetensorsTensor;
  B: SafetensorsTensor;
  /** From a `<module>.alpha` tensor (kohya-style and older diffusers files). */
  alpha?: number;
  rank: number;
}

/** diffusers' `lora_adapter_metadata` (a LoraConfig's fields), the prefix taken off. */
export interface FileConfig {
  r?: number;
  lora_alpha?: number;
  lora_dropout?: number;
  alpha_pattern?: Record<string, number>;
  rank_pattern?: Record<string, number>;
  use_dora?: boolean;
  use_rslora?: boolean;
  lora_bias?: boolean;
}

export const ADAPTER_METADATA_KEY = 'lora_adapter_metadata';

const OLD_ATTENTION = /^(.+?)(?:\.processor)?\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/;

/** Which module and which half a key names; null for a key that is no LoRA tensor. */
function classify(key: string): { module: string; part: 'A' | 'B' | 'alpha' } | null {
  let m = /^(.+)\.(?:lora_A\.weight|lora\.down\.weight)$/.exec(key);
  if (m) return { module: m[1]!, part: 'A' };
  m = /^(.+)\.(?:lora_B\.weight|lora\.up\.weight)$/.exec(key);
  if (m) return { module: m[1]!, part: 'B' };
  m = OLD_ATTENTION.exec(key);
  if (m) return { module: `${m[1]}.${m[2] === 'to_out' ? 'to_out.0' : m[2]}`, part: m[3] === 'down' ? 'A' : 'B' };
  m = /^(.+)\.alpha$/.exec(key);
  if (m) return { module: m[1]!, part: 'alpha' };
  return null;
}

const finite = (t: SafetensorsTensor): boolean => {
  for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(Number(t.data[i]))) return false;
  return true;
};

/**
 * The pairs of a `pytorch_lora_weights.safetensors` (PEFT keys `<prefix>.<module>.lora_A.weight` /
 * `.lora_B.weight`, or the older `.lora.down.weight` / `.lora.up.weight` and `.processor.to_q_lora.down.weight`,
 * with optional `.alpha` scalars; keys without any prefix as older files have them) and its adapter config.
 */
export function parseLoraFile(bytes: Uint8Array | ArrayBuffer, { prefix = 'unet', where = 'loadLora' } = {}): { pairs: FilePair[]; config: FileConfig | null } {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new TypeError(`${where}: the adapter must be the bytes of a .safetensors file (Uint8Array or ArrayBuffer); got ${Object.prototype.toString.call(bytes)}`);
  }
  const file = decodeSafetensors(bytes, where);
  const keys = Object.keys(file.tensors);
  if (keys.length === 0) throw new Error(`${where}: the file holds no tensor`);
  const pre = `${prefix}.`;
  const prefixed = keys.some((k) => k.startsWith(pre));
  const groups = new Map<string, { A?: [string, SafetensorsTensor]; B?: [string, SafetensorsTensor]; alpha?: [string, SafetensorsTensor] }>();
  for (const key of keys) {
    if (prefixed && !key.startsWith(pre)) throw new Error(`${where}: key '${key}' is not under '${pre}' (an adapter of another component; this model is the '${prefix}')`);
    const local = prefixed ? key.slice(pre.length) : key;
    if (/lora_magnitude_vector|dora_scale/.test(local)) throw new Error(`${where}: key '${key}' is a DoRA magnitude; DoRA adapters are not supported`);
    if (/\.lora_B\.bias$/.test(local)) throw new Error(`${where}: key '${key}' is a lora_B bias (lora_bias); adapters with a bias are not supported`);
    const c = classify(local);
    if (!c) throw new Error(`${where}: key '${key}' is no LoRA tensor (expected <module>.lora_A.weight, .lora_B.weight, .lora.down.weight, .lora.up.weight or .alpha)`);
    const g = groups.get(c.module) ?? {};
    const prev = g[c.part];
    if (prev) throw new Error(`${where}: keys '${prev[0]}' and '${key}' both hold ${c.part === 'alpha' ? 'the alpha' : `lora_${c.part}`} of module '${c.module}'`);
    g[c.part] = [key, file.tensors[key]!];
    groups.set(c.module, g);
  }
  const pairs: FilePair[] = [];
  for (const [module, g] of groups) {
    const some = (g.A ?? g.B ?? g.alpha)![0];
    if (!g.A || !g.B) {
      const has = g.A ? 'lora_A (down)' : g.B ? 'lora_B (up)' : 'only an alpha';
      throw new Error(`${where}: key '${some}': module '${module}' has ${has} but no ${g.A ? 'lora_B (up)' : 'lora_A (down)'} weight`);
    }
    const [keyA, A] = g.A;
    const [keyB, B] = g.B;
    for (const [k, t] of [[keyA, A], [keyB, B]] as const) {
      if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16' && t.dtype !== 'F64') throw new Error(`${where}: key '${k}' has dtype ${t.dtype}; LoRA weights are floats`);
      if (t.shape.length !== 2 && t.shape.length !== 4) throw new Error(`${where}: key '${k}' has shape [${t.shape}]; a LoRA weight is [out, in] or [out, in, kh, kw]`);
      if (!finite(t)) throw new Error(`${where}: key '${k}' holds NaN or Inf`);
    }
    const rank = A.shape[0]!;
    if (rank === 0) throw new Error(`${where}: key '${keyA}' has rank 0 (shape [${A.shape}]); a LoRA rank is at least 1`);
    if (B.shape[1] !== rank) throw new Error(`${where}: key '${keyB}' has shape [${B.shape}]; its second dimension must be the rank ${rank} of '${keyA}' [${A.shape}]`);
    let alpha: number | undefined;
    if (g.alpha) {
      const [k, t] = g.alpha;
      alpha = Number(t.data[0]);
      if (t.data.length !== 1 || !(Number.isFinite(alpha) && alpha > 0)) throw new Error(`${where}: key '${k}' must be one positive number (the module's alpha); got ${t.data.length} value(s), first ${showValue(alpha)}`);
    }
    pairs.push({ module, keyA, keyB, A, B, alpha, rank });
  }
  return { pairs, config: adapterConfig(file.metadata[ADAPTER_METADATA_KEY], prefix, where) };
}

function adapterConfig(raw: string | undefined, prefix: string, where: string): FileConfig | null {
  if (raw === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`${where}: metadata '${ADAPTER_METADATA_KEY}' is not JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${where}: metadata '${ADAPTER_METADATA_KEY}' must be a JSON object`);
  const pre = `${prefix}.`;
  const entries = Object.entries(json).filter(([k]) => k.startsWith(pre));
  if (entries.length === 0) return null;
  const c = Object.fromEntries(entries.map(([k, v]) => [k.slice(pre.length), v])) as FileConfig;
  const num = (k: keyof FileConfig) => {
    const v = c[k];
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new Error(`${where}: metadata '${pre}${k}' must be a number; got ${showValue(v)}`);
  };
  num('r'); num('lora_alpha'); num('lora_dropout');
  for (const k of ['use_dora', 'use_rslora', 'lora_bias'] as const) {
    if (c[k] === true) throw new Error(`${where}: metadata '${pre}${k}' is true; only plain LoRA adapters are supported`);
  }
  return c;
}

/** PEFT's pattern lookup (`rank_pattern`, `alpha_pattern`): a key matches a module named by it or ending in `.key`. */
export function patternValue(pattern: Record<string, number> | undefined, module: string): number | undefined {
  if (!pattern) return undefined;
  for (const [k, v] of Object.entries(pattern)) if (module === k || module.endsWith(`.${k}`)) return v;
  return undefined;
}
