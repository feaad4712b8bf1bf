import { showValue } from '@tfjs-diffusion/schedules';

/** A tensor name in a message, cut to 80 characters (a hostile header's names can be megabytes). */
const q = (name: string) => `'${name.length > 80 ? `${name.slice(0, 79)}…` : name}'`;

/** The dtypes this reader/writer knows; F16 and BF16 are widened to Float32Array on read. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'BOOL';

export type SafetensorsData = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, BOOL: 1,
};
const MAX_HEADER = 100 * 1024 * 1024;

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Encodes tensors in the safetensors layout: u64 LE header length, JSON
 * header, raw LE data (8-byte aligned start). Pure: runs in a browser too.
 */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const names = Object.keys(tensors).sort();
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    if (!(t.dtype in BYTES)) throw new Error(`encodeSafetensors: tensor '${name}' has unknown dtype '${t.dtype}'; expected one of ${Object.keys(BYTES).join(', ')}`);
    const bytes = sizeOf(t.shape) * BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new Error(`encodeSafetensors: tensor '${name}' has ${t.data.byteLength} bytes of data; shape [${t.shape}] of ${t.dtype} needs ${bytes}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts at a multiple of 8 bytes.
  const headLength = json.length + ((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + headLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headLength);
  let pos = 8 + headLength;
  for (const name of names) {
    const d = tensors[name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function view(dtype: SafetensorsDtype, bytes: Uint8Array): SafetensorsData {
  // Copy into a fresh buffer: the file's data need not be aligned for the typed array.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const buf = copy.buffer;
  switch (dtype) {
    case 'F64': return new Float64Array(buf);
    case 'F32': return new Float32Array(buf);
    case 'I64': return new BigInt64Array(buf);
    case 'I32': return new Int32Array(buf);
    case 'I16': return new Int16Array(buf);
    case 'I8': return new Int8Array(buf);
    case 'U8': case 'BOOL': return new Uint8Array(buf);
    case 'U16': return new Uint16Array(buf);
    case 'U32': return new Uint32Array(buf);
    case 'F16': return Float32Array.from(new Uint16Array(buf), halfToFloat);
    case 'BF16': {
      const u = new Uint16Array(buf);
      const wide = new Uint32Array(u.length);
      for (let i = 0; i < u.length; i++) wide[i] = u[i]! << 16;
      return new Float32Array(wide.buffer);
    }
  }
}

/**
 * Parses safetensors bytes (a file's contents, a `fetch` response's
 * `arrayBuffer()`); `where` names the source in errors. F16/BF16 come back as F32.
 */
export function decodeSafetensors(bytes: ArrayBuffer | Uint8Array, where = 'safetensors data'): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new Error(`${where}: not a valid safetensors file: ${msg}`);
  };
  const buf = ArrayBuffer.isView(bytes)
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : bytes instanceof ArrayBuffer
      ? new Uint8Array(bytes)
      : fail(`expected an ArrayBuffer or Uint8Array; got ${Object.prototype.toString.call(bytes)}`);
  if (buf.length < 8) fail(`${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(Math.min(MAX_HEADER, buf.length - 8))) fail(`header length ${n64} runs past the end of the ${buf.length}-byte file (truncated?)`);
  const n = Number(n64);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const base = 8 + n;
  const dataLength = buf.length - base;
  const tensors: Record<string, SafetensorsTensor> = {};
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype as SafetensorsDtype;
    if (typeof dtype !== 'string' || !(dtype in BYTES)) fail(`tensor ${q(name)} has unknown dtype ${showValue(info?.dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`tensor ${q(name)} has a bad shape ${showValue(shape)}`);
    const off = info.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0) || off[0] > off[1]) {
      fail(`tensor ${q(name)} has bad data_offsets ${showValue(off)}`);
    }
    const [s, e] = off as [number, number];
    if (e > dataLength) fail(`tensor ${q(name)} ends at byte ${e} of a ${dataLength}-byte data section (truncated?)`);
    const want = sizeOf(shape as number[]) * BYTES[dtype];
    if (e - s !== want) fail(`tensor ${q(name)} has ${e - s} bytes; shape ${(shape as number[]).length <= 8 ? `[${shape}]` : showValue(shape)} of ${dtype} needs ${want}`);
    spans.push([s, e, name]);
    tensors[name] = { dtype: dtype === 'F16' || dtype === 'BF16' ? 'F32' : dtype, shape: shape as number[], data: view(dtype, buf.subarray(base + s, base + e)) };
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) fail(`tensors ${q(spans[i - 1]![2])} and ${q(spans[i]![2])} overlap`);
  }
  return { tensors, metadata };
}
