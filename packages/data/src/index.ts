export { classIndices, type ImageDataset, sizeOf, take, toTensor } from './dataset.js';
export { FASHION_MNIST_CLASSES } from './classes.js';
export { split, type SplitOptions, subset } from './split.js';
export {
  type Augmenter,
  batches,
  type BatchIterator,
  type BatchOptions,
  batchSource,
  type BatchSourceOptions,
  type BatchState,
  type HostBatch,
} from './batches.js';
export {
  augment,
  type Augmentation,
  randomCrop,
  randomFlip,
  randomRotation,
  rotate,
} from './augment.js';
export { colorJitter } from './colorJitter.js';
export { circleInRd, gaussianMixture, swissRoll, twoMoons } from './toys.js';
export { decodeImage, MAX_IMAGE_PIXELS } from './decode.js';
export type { DecodedImage } from './decodedImage.js';
export { jpegOrientation, orient } from './exif.js';
export { type Background, crop, type Plane, resizeRgba } from './resample.js';
export { type FolderFile, type FolderLayout, IMAGE_EXTENSIONS, type SkippedFile } from './folderLayout.js';
export {
  type FolderContext,
  type FolderDataset,
  imageFolder,
  type ImageFolderOptions,
  transform,
} from './imageFolder.js';
export {
  EMOJI_VENDORS,
  type EmojiDataset,
  emojiDataset,
  type EmojiEntry,
  type EmojiOptions,
  type EmojiVendor,
} from './emoji.js';
