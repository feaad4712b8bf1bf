import type { DecodedImage } from './decodedImage.js';

/**
 * The EXIF Orientation (1–8) of a JPEG, read from its APP1 Exif segment;
 * 1 (as stored) when there is none or it cannot be read: a damaged tag must
 * not cost the image.
 */
export function jpegOrientation(b: Uint8Array): number {
  let o = 2;
  while (o + 4 <= b.length && b[o] === 0xff) {
    const marker = b[o + 1]!;
    const len = (b[o + 2]! << 8) | b[o + 3]!;
    if (marker === 0xda || marker === 0xd9) break; // scan data: no more metadata segments
    if (marker === 0xe1 && len >= 16 && b[o + 4] === 0x45 && b[o + 5] === 0x78 && b[o + 6] === 0x69 && b[o + 7] === 0x66 && b[o + 8] === 0 && b[o + 9] === 0) {
      return tiffOrientation(b.subarray(o + 10, Math.min(b.length, o + 2 + len)));
    }
    o += 2 + len;
  }
  return 1;
}

function tiffOrientation(t: Uint8Array): number {
  if (t.length < 8) return 1;
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return 1;
  const u16 = (i: number) => (le ? t[i]! | (t[i + 1]! << 8) : (t[i]! << 8) | t[i + 1]!);
  const u32 = (i: number) => (le ? u16(i) + u16(i + 2) * 65536 : u16(i) * 65536 + u16(i + 2));
  const ifd = u32(4);
  if (ifd + 2 > t.length) return 1;
  const n = u16(ifd);
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > t.length) return 1;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return u16(e + 2) === 3 && v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

/**
 * The image turned upright for an EXIF orientation, as Pillow's
 * `ImageOps.exif_transpose` (which Hugging Face datasets applies on decoding):
 * 2 mirror, 3 half turn, 4 flip, 5 transpose, 6 quarter turn clockwise, 7 transverse, 8 anticlockwise.
 */
export function orient(img: DecodedImage, orientation: number): DecodedImage {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: W, height: H } = img;
  const swap = orientation >= 5;
  const [w, h] = swap ? [H, W] : [W, H];
  const src: Record<number, (x: number, y: number) => [number, number]> = {
    2: (x, y) => [W - 1 - x, y],
    3: (x, y) => [W - 1 - x, H - 1 - y],
    4: (x, y) => [x, H - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, H - 1 - x],
    7: (x, y) => [W - 1 - y, H - 1 - x],
    8: (x, y) => [W - 1 - y, x],
  };
  const at = src[orientation]!;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sx, sy] = at(x, y);
      rgba.set(img.rgba.subarray((sy * W + sx) * 4, (sy * W + sx) * 4 + 4), (y * w + x) * 4);
    }
  }
  return { width: w, height: h, rgba };
}
