// A folder as name → bytes: what the model-folder reader reads, in a browser
// (files picked or dropped, fetched) and in Node (training/node's `nodeFolder`).

/** Read access to the files of one folder, by '/'-separated path relative to it ('../x' reaches beside it). */
export interface FolderFiles {
  /** The bytes of the file at `path`, or undefined when there is none. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** Whether a file is at `path` (without reading it; defaults to `read`). */
  has?(path: string): Promise<boolean>;
  /** How `path` is named in messages (e.g. the full path on disk). */
  describe(path: string): string;
}

/** `path` with '.' and 'x/..' segments folded and no leading or trailing '/' ('..' stays where nothing is left to fold). */
export function normalizeFolderPath(path: string): string {
  const out: string[] = [];
  for (const seg of path.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(seg);
  }
  return out.join('/');
}

/** `path` relative to the folder `base` (both relative to one root). */
export function joinFolderPath(base: string, path: string): string {
  return normalizeFolderPath(base === '' ? path : `${base}/${path}`);
}

/**
 * A folder held in memory: file paths relative to the folder (normalized as
 * `normalizeFolderPath`; a pipeline's `../scheduler/scheduler_config.json` is
 * such a path) to their bytes. `name` prefixes paths in messages.
 */
export function folderOfFiles(files: Map<string, Uint8Array> | Iterable<readonly [string, Uint8Array]>, name?: string): FolderFiles {
  const map = new Map<string, Uint8Array>();
  for (const [path, bytes] of files) map.set(normalizeFolderPath(path), bytes);
  return {
    async read(path) {
      return map.get(normalizeFolderPath(path));
    },
    async has(path) {
      return map.has(normalizeFolderPath(path));
    },
    describe(path) {
      const p = normalizeFolderPath(path);
      if (name === undefined) return p === '' ? 'the folder' : p;
      return p === '' ? name : `${name}/${p}`;
    },
  };
}

export async function hasFile(folder: FolderFiles, path: string): Promise<boolean> {
  return folder.has ? folder.has(path) : (await folder.read(path)) !== undefined;
}

/** A JSON object file, parsed; undefined when absent. Errors name the file. */
export async function readJsonFile(folder: FolderFiles, path: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await folder.read(path);
  if (bytes === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${folder.describe(path)} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${folder.describe(path)} must hold a JSON object; got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}
