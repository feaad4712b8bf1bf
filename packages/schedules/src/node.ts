// Node-only parts: files written whole or not at all.
export * from './files.js';
