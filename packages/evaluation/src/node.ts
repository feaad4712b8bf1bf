// Node-only parts: the classifier cache folder.
export { classifierCache } from './classifierCache.js';
