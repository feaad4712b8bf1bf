/** The MNIST digits the page trains on: the compact binary scripts/mnist-binary.ts writes (served at data/mnist.bin.gz). */

export interface Digits {
  count: number;
  height: number;
  width: number;
  labels: Uint8Array;
  /** count·height·width bytes, 0..255. */
  pixels: Uint8Array;
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Parses the binary (gzip-compressed or not: a server may already have undone the compression). */
export async function parseDigits(raw: Uint8Array, where = 'MNIST data'): Promise<Digits> {
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? await gunzip(raw) : raw;
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 16 || magic !== 'MNST') throw new Error(`${where}: not the page's MNIST binary (expected the magic "MNST")`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = dv.getUint32(4, true);
  const height = dv.getUint32(8, true);
  const width = dv.getUint32(12, true);
  const need = 16 + count + count * height * width;
  if (bytes.length !== need) throw new Error(`${where}: ${bytes.length} bytes; ${count} digits of ${height}×${width} need ${need}`);
  return { count, height, width, labels: bytes.subarray(16, 16 + count), pixels: bytes.subarray(16 + count) };
}

export async function fetchDigits(url: string): Promise<Digits> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  return parseDigits(new Uint8Array(await res.arrayBuffer()), url);
}
