// Node-only parts: files written whole or not at all.
export {
  fileError,
  TEMPORARY_NAME,
  temporaryPath,
  writeFileAtomic,
  type WriteFileAtomicOptions,
  writeFileAtomicSync,
} from './files.js';
