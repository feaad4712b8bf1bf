// Node-only parts: files on disk. Everything else is in the main entry.
export { loadModel, readSafetensors, saveModel, writeSafetensors } from './files.js';
