// Node-only parts: files on disk. Everything else is in the main entry.
export * from './files.js';
