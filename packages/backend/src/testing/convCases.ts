/** Convolution geometries the gradient kernels are checked on. */
export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid' | number;
}

export const convCases: ConvCase[] = [
  { name: '3x3 stride 1 same', x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'same' },
  { name: '3x3 stride 1 valid', x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'valid' },
  { name: '3x3 stride 2 same, odd size', x: [2, 7, 9, 3], filter: [3, 3, 3, 5], strides: [2, 2], pad: 'same' },
  { name: '3x3 stride 2 same, even size', x: [2, 8, 8, 4], filter: [3, 3, 4, 3], strides: [2, 2], pad: 'same' },
  { name: '3x3 stride 2 valid, odd size', x: [2, 9, 7, 2], filter: [3, 3, 2, 3], strides: [2, 2], pad: 'valid' },
  { name: '3x3 stride 2 valid, even size', x: [1, 8, 10, 2], filter: [3, 3, 2, 3], strides: [2, 2], pad: 'valid' },
  { name: '3x3 stride 2 explicit pad 1', x: [2, 8, 7, 3], filter: [3, 3, 3, 2], strides: [2, 2], pad: 1 },
  { name: '1x1 stride 1, batch 1', x: [1, 5, 6, 4], filter: [1, 1, 4, 3], strides: [1, 1], pad: 'valid' },
  { name: '1x1 stride 2 valid', x: [2, 7, 8, 3], filter: [1, 1, 3, 2], strides: [2, 2], pad: 'valid' },
  { name: '1x1 stride 2 same', x: [2, 6, 5, 3], filter: [1, 1, 3, 2], strides: [2, 2], pad: 'same' },
  { name: '3x3 strides [2, 1] same', x: [2, 7, 6, 2], filter: [3, 3, 2, 3], strides: [2, 1], pad: 'same' },
  { name: '5x3 stride 3 same', x: [1, 10, 8, 2], filter: [5, 3, 2, 2], strides: [3, 3], pad: 'same' },
  { name: '2x2 stride 2 valid', x: [2, 6, 6, 3], filter: [2, 2, 3, 4], strides: [2, 2], pad: 'valid' },
];

/** Output spatial size of the forward convolution, as TensorFlow defines it. */
export function outSize(c: ConvCase): [number, number] {
  const [, h, w] = c.x;
  const [kh, kw] = c.filter;
  const [sh, sw] = c.strides;
  if (c.pad === 'same') return [Math.ceil(h / sh), Math.ceil(w / sw)];
  const p = c.pad === 'valid' ? 0 : c.pad;
  return [Math.floor((h + 2 * p - kh) / sh) + 1, Math.floor((w + 2 * p - kw) / sw) + 1];
}
