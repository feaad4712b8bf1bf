import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from './node.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** A file built by hand from the format's description, independent of the writer. */
function handMade(header: object, data: number[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

describe('safetensors', () => {
  it('reads a file laid out by the specification (u64 LE length, JSON header, LE data)', () => {
    const f32 = Buffer.alloc(8);
    f32.writeFloatLE(1.5, 0);
    f32.writeFloatLE(-2, 4);
    const i32 = Buffer.alloc(4);
    i32.writeInt32LE(-7);
    const buf = handMade(
      { __metadata__: { format: 'pt' }, b: { dtype: 'I32', shape: [1], data_offsets: [8, 12] }, a: { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] }, h: { dtype: 'F16', shape: [2], data_offsets: [12, 16] }, bf: { dtype: 'BF16', shape: [1], data_offsets: [16, 18] } },
      [...f32, ...i32, 0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f],
    );
    const { tensors, metadata } = decodeSafetensors(buf);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.a).toEqual({ dtype: 'F32', shape: [1, 2], data: new Float32Array([1.5, -2]) });
    expect(Array.from(tensors.b!.data as Int32Array)).toEqual([-7]);
    expect(Array.from(tensors.h!.data as Float32Array)).toEqual([1, -2]); // 0x3C00 = 1, 0xC000 = -2 in IEEE half
    expect(Array.from(tensors.bf!.data as Float32Array)).toEqual([1]); // 0x3F80 = 1 in bfloat16
  });

  it('writes what the specification describes: sorted, contiguous offsets, 8-byte-aligned data start', () => {
    const bytes = encodeSafetensors({ z: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }, a: { dtype: 'I32', shape: [], data: new Int32Array([5]) } }, { k: 'v' });
    expect(Buffer.isBuffer(bytes)).toBe(false); // a plain Uint8Array, as a browser has
    const buf = Buffer.from(bytes);
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    expect(header).toEqual({ __metadata__: { k: 'v' }, a: { dtype: 'I32', shape: [], data_offsets: [0, 4] }, z: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } });
    expect(buf.readInt32LE(8 + n)).toBe(5);
    expect(buf.readFloatLE(8 + n + 8)).toBe(2);
    expect(buf.length).toBe(8 + n + 12);
    // An ArrayBuffer (what fetch() and File give in a browser) decodes the same.
    const back = decodeSafetensors(bytes.buffer.slice(0) as ArrayBuffer);
    expect(back.metadata).toEqual({ k: 'v' });
    expect(back.tensors.z!.data).toEqual(new Float32Array([1, 2]));
    expect(() => decodeSafetensors('abc' as never)).toThrow(/expected an ArrayBuffer or Uint8Array; got \[object String\]/);
  });

  it('round-trips through a file written atomically (no temporary file left)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'sub', 'w.safetensors');
    const data = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
    await writeSafetensors(path, { w: { dtype: 'F32', shape: [5, 6], data }, d: { dtype: 'F64', shape: [1], data: new Float64Array([Math.PI]) } });
    const back = await readSafetensors(path);
    expect(back.tensors.w!.data).toEqual(data);
    expect(back.tensors.d!.data).toEqual(new Float64Array([Math.PI]));
    expect(readdirSync(join(dir, 'sub'))).toEqual(['w.safetensors']);
  });

  it('names the file and the fault for truncated or corrupt input', async () => {
    const good = encodeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, good.subarray(0, good.length - 3));
    await expect(readSafetensors(path)).rejects.toThrow(new RegExp(`${path}.*'w' ends at byte 16 of a 13-byte data section \\(truncated\\?\\)`));
    expect(() => decodeSafetensors(good.subarray(0, 5))).toThrow(/shorter than the 8-byte header length/);
    expect(() => decodeSafetensors(good.subarray(0, 20))).toThrow(/header length \d+ runs past the end/);
    const notJson = Buffer.from(good);
    notJson[8] = 0x7b + 1;
    expect(() => decodeSafetensors(notJson)).toThrow(/header is not JSON/);
    expect(() => decodeSafetensors(handMade({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, [0]))).toThrow(/unknown dtype "Q4"/);
    expect(() => decodeSafetensors(handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]))).toThrow(/needs 8/);
    expect(() => decodeSafetensors(handMade({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } }, [0, 0, 0]))).toThrow(/overlap/);
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/shape \[3\] of F32 needs 12/);
    expect(readFileSync(path).length).toBe(good.length - 3);
  });
});
