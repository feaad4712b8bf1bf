import { readFileSync } from 'node:fs';
import { checkNesting } from '@tfjs-diffusion/schedules';
import { PRESETS, presetConfig, type DemoConfig } from './presets.js';
import { checkDemoConfig, checkPartialKeys } from './schema.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else replaces. */
export function deepMerge<T>(target: T, source: unknown): T {
  if (!isObject(source)) return target;
  const out: Json = { ...(target as Json) };
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined || k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k], v) : structuredClone(v);
  }
  return out as T;
}

/** Sets `value` at a dotted path ('regularizers.ema') of a plain object. */
export function setPath(obj: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let o: Json = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isObject(o[k])) o[k] = {};
    o = o[k] as Json;
  }
  o[keys[keys.length - 1]!] = value;
}

export function readConfigFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`--config ${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`--config ${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(parsed)) throw new Error(`--config ${path}: must hold a JSON object of DemoConfig fields; got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  checkNesting(parsed, `--config ${path}`);
  return parsed;
}

function hasPath(o: unknown, path: string): boolean {
  let cur = o;
  for (const k of path.split('.')) {
    if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return false;
    cur = cur[k];
  }
  return true;
}

/** Config path → the train flag that sets it ('regularizers.ema' → '--ema'); filled by the CLI. */
export const flagNames: Record<string, string> = {};

/** Where a field's value came from, for error messages: the flag, the config file, or the base (a run's config.json, a preset). */
function sourceOf(path: string, file: { name: string; value: Json } | undefined, flags: Record<string, unknown>, base: string): string {
  const flag = Object.keys(flags).find((f) => f === path || f.startsWith(`${path}.`) || path.startsWith(`${f}.`));
  if (flag !== undefined) return `${flagNames[flag] ?? `the flag for ${flag}`}: `;
  if (file && hasPath(file.value, path)) return `--config ${file.name}: `;
  return base ? `${base}: ` : '';
}

/** Checks every field and names the one that is wrong and what it accepts. */
export function validateConfig(c: DemoConfig, where = ''): DemoConfig {
  return checkDemoConfig(c, () => (where ? `${where}: ` : ''));
}

/**
 * The config of a run: the preset, then a JSON config file, then flags
 * (`overrides`, dotted paths such as 'regularizers.ema'), each overriding the last.
 * Every error names where the field came from (`baseLabel` for `base`, e.g. a run's config.json).
 */
export function resolveConfig(opts: { preset?: string; configFile?: string; overrides?: Record<string, unknown>; base?: DemoConfig; baseLabel?: string }): DemoConfig {
  const file = opts.configFile ? readConfigFile(opts.configFile) : {};
  const fileRef = opts.configFile ? { name: opts.configFile, value: file } : undefined;
  if (fileRef) {
    const { preset: _preset, ...rest } = file;
    checkPartialKeys({ preset: 'x', ...rest }, () => `--config ${opts.configFile}: `);
    if (_preset !== undefined && typeof _preset !== 'string') throw new Error(`--config ${opts.configFile}: preset must be one of ${Object.keys(PRESETS).map((k) => `'${k}'`).join(', ')}; got ${JSON.stringify(_preset)}`);
  }
  const presetName = opts.preset ?? (typeof file.preset === 'string' ? file.preset : 'mnist-tiny');
  if (opts.configFile && !opts.preset && typeof file.preset === 'string' && !PRESETS[file.preset]) {
    throw new Error(`--config ${opts.configFile}: preset must be one of ${Object.keys(PRESETS).map((k) => `'${k}'`).join(', ')}; got '${file.preset}'`);
  }
  let c = opts.base ? structuredClone(opts.base) : presetConfig(presetName);
  c = deepMerge(c, file);
  c.preset = opts.base?.preset ?? presetName;
  const flags: Json = {};
  const given: Record<string, unknown> = {};
  for (const [path, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) { setPath(flags, path, v); given[path] = v; }
  c = deepMerge(c, flags);
  return checkDemoConfig(c, (path) => sourceOf(path, fileRef, given, opts.baseLabel ?? (opts.base ? 'the run\'s config' : `preset ${presetName}`)));
}
