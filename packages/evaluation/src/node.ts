// Node-only parts: the classifier cache folder.
export * from './classifierCache.js';
