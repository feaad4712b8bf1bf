// The one shape of a decoded image, shared by the decoders, EXIF orientation and resampling.

/** A decoded image as 8-bit RGBA, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}
