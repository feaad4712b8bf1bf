import { METADATA_FILES, parseMetadata } from './metadata.js';

/** One file of a folder, as a browser's dropped files or picked folder give it, or as the Node layer reads it. */
export interface FolderFile {
  /** Path inside the folder, '/'-separated ('cat/1.png'); a shared leading folder is ignored. */
  path: string;
  /** The bytes, or a function that reads them (called once, when the file is decoded). */
  bytes: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
}

/** A file left out, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

const ext = (p: string) => {
  const dot = p.lastIndexOf('.');
  return dot > p.lastIndexOf('/') ? p.slice(dot).toLowerCase() : '';
};
const dirOf = (p: string) => p.slice(0, Math.max(0, p.lastIndexOf('/')));
const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

/** Where each image sits in the layout: its label (class folders) and caption rows (metadata.jsonl or metadata.csv). */
export interface FolderLayout {
  images: { path: string; file: FolderFile; label?: number; caption?: unknown }[];
  classNames?: string[];
  /** Whether a metadata file was found (then every image has a caption, '' when it has no row). */
  hasMetadata: boolean;
  skipped: SkippedFile[];
}

/**
 * Reads the Hugging Face `imagefolder` layout from paths: images anywhere
 * below the root (hidden files and other extensions ignored); when every
 * image sits in a folder directly below the root and there are at least two
 * such folders, each folder is a class (sorted names, code-point order,
 * give the ids). `metadata.jsonl` and `metadata.csv` files (at any level) give per-image rows;
 * `file_name` is relative to the metadata file's folder.
 */
export async function readLayout(files: FolderFile[], captionColumn: string, where: string): Promise<FolderLayout> {
  const norm = files.map((f) => ({ file: f, path: f.path.replace(/\\/g, '/').replace(/^(\.?\/)+/, '') }));
  const visible = norm.filter((f) => !f.path.split('/').some((s) => s.startsWith('.') || s === ''));
  const root = commonDir(visible.map((f) => f.path));
  const rel = visible.map((f) => ({ ...f, path: f.path.slice(root.length ? root.length + 1 : 0) }));
  const images = rel.filter((f) => IMAGE_EXTENSIONS.includes(ext(f.path))).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const skipped: SkippedFile[] = [];
  const byPath = new Map(images.map((f) => [f.path, f]));
  if (byPath.size < images.length) throw new Error(`${where}: two files share a path; paths must be unique`);

  const rows = new Map<string, Record<string, unknown>>();
  const metas = rel.filter((f) => METADATA_FILES.some((m) => f.path === m || f.path.endsWith(`/${m}`)));
  const columns = new Set<string>();
  for (const m of metas) {
    const bytes = typeof m.file.bytes === 'function' ? await m.file.bytes() : m.file.bytes;
    for (const r of parseMetadata(new TextDecoder().decode(bytes), m.path.endsWith('.csv') ? 'csv' : 'jsonl')) {
      const at = `${join(root, m.path)}:${r.line}`;
      if ('error' in r) {
        skipped.push({ path: at, reason: r.error });
        continue;
      }
      const name = r.row.file_name;
      if (typeof name !== 'string') {
        skipped.push({ path: at, reason: "a metadata row needs a string 'file_name'" });
        continue;
      }
      const target = join(dirOf(m.path), name.replace(/^(\.\/)+/, ''));
      if (!byPath.has(target)) {
        skipped.push({ path: at, reason: `file_name '${name}' names no image in the folder` });
        continue;
      }
      Object.keys(r.row).forEach((k) => columns.add(k));
      rows.set(target, r.row);
    }
  }
  if (rows.size > 0 && !columns.has(captionColumn)) {
    const others = [...columns].filter((c) => c !== 'file_name');
    throw new Error(`${where}: captionColumn '${captionColumn}' is not a column of the metadata; its columns are ${others.map((c) => `'${c}'`).join(', ') || 'none besides file_name'}`);
  }

  const depth2 = images.every((f) => f.path.split('/').length === 2);
  const classes = depth2 ? [...new Set(images.map((f) => f.path.split('/')[0]!))].sort() : [];
  const labelled = classes.length >= 2;
  const classId = new Map(classes.map((c, i) => [c, i]));
  return {
    images: images.map((f) => ({
      path: join(root, f.path),
      file: f.file,
      label: labelled ? classId.get(f.path.split('/')[0]!) : undefined,
      caption: metas.length > 0 ? (rows.get(f.path)?.[captionColumn] ?? '') : undefined,
    })),
    classNames: labelled ? classes : undefined,
    hasMetadata: metas.length > 0,
    skipped,
  };
}

// The folder all paths share (a picked folder's own name, in a browser).
function commonDir(paths: string[]): string {
  if (paths.length === 0) return '';
  let parts = dirOf(paths[0]!).split('/').filter(Boolean);
  for (const p of paths) {
    const d = dirOf(p).split('/');
    let k = 0;
    while (k < parts.length && parts[k] === d[k]) k++;
    parts = parts.slice(0, k);
  }
  return parts.join('/');
}
