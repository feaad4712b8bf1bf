// Local safetensors reader/writer until the models package's lands; same signatures.
import { readFile, rename, writeFile } from 'node:fs/promises';

type Dtype = 'F32' | 'I32';
interface Entry { dtype: Dtype; shape: number[]; data: Float32Array | Int32Array }

export async function writeSafetensors(path: string, tensors: Record<string, Entry>, metadata: Record<string, string> = {}): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const buf = Buffer.alloc(8 + head.length + offset);
  buf.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(buf, 8);
  let pos = 8 + head.length;
  for (const name of names) {
    const d = tensors[name].data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(buf, pos);
    pos += d.byteLength;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, buf);
  await rename(tmp, path);
}

export async function readSafetensors(path: string): Promise<{ tensors: Record<string, Entry>; metadata: Record<string, string> }> {
  const buf = await readFile(path);
  if (buf.length < 8) throw new Error('file shorter than the 8-byte header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error(`header length ${n} exceeds the file size ${buf.length}`);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const base = 8 + n;
  const tensors: Record<string, Entry> = {};
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header as Record<string, any>)) {
    if (name === '__metadata__') {
      metadata = info;
      continue;
    }
    const [s, e] = info.data_offsets as [number, number];
    if (base + e > buf.length) throw new Error(`tensor '${name}' runs past the end of the file (truncated?)`);
    const bytes = new Uint8Array(buf.subarray(base + s, base + e)).slice().buffer;
    const data = info.dtype === 'I32' ? new Int32Array(bytes) : new Float32Array(bytes);
    tensors[name] = { dtype: info.dtype, shape: info.shape, data };
  }
  return { tensors, metadata };
}
