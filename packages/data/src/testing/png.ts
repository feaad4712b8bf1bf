import { crc32, deflateSync } from 'node:zlib';

// A minimal PNG encoder for tests, independent of the decoders under test:
// any colour type and bit depth, an optional palette and tRNS chunk, filter 0.
export function encodePng(o: {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Samples row-major, `channels` per pixel (1 index per pixel for palette). */
  samples: number[];
  palette?: [number, number, number][];
  trns?: number[];
}): Uint8Array {
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[o.colorType];
  const rowBits = o.width * channels * o.bitDepth;
  const rowBytes = Math.ceil(rowBits / 8);
  const raw = new Uint8Array(o.height * (rowBytes + 1));
  for (let y = 0; y < o.height; y++) {
    const row = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    for (let i = 0; i < o.width * channels; i++) {
      const v = o.samples[y * o.width * channels + i]!;
      if (o.bitDepth === 16) {
        row[2 * i] = v >> 8;
        row[2 * i + 1] = v & 255;
      } else if (o.bitDepth === 8) row[i] = v;
      else {
        const bit = i * o.bitDepth;
        row[bit >> 3]! |= v << (8 - o.bitDepth - (bit & 7));
      }
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, o.width);
  dv.setUint32(4, o.height);
  ihdr.set([o.bitDepth, o.colorType, 0, 0, 0], 8);
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (o.palette) parts.push(chunk('PLTE', Uint8Array.from(o.palette.flat())));
  if (o.trns) {
    const t = o.colorType === 3 ? Uint8Array.from(o.trns) : Uint8Array.from(o.trns.flatMap((v) => [v >> 8, v & 255]));
    parts.push(chunk('tRNS', t));
  }
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  const total = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    total.set(p, off);
    off += p.length;
  }
  return total;
}

/** An 8-bit RGBA PNG from RGBA samples. */
export const rgbaPng = (width: number, height: number, rgba: number[]) => encodePng({ width, height, colorType: 6, bitDepth: 8, samples: rgba });

/** An opaque grey PNG, one value per pixel. */
export const greyPng = (width: number, height: number, values: number[]) => encodePng({ width, height, colorType: 0, bitDepth: 8, samples: values });
