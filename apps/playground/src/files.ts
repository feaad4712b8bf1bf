// Files the user hands the page: picked (file or folder picker) or dropped
// (files and folders, walked through the entries API), each with its path in
// the folder, read only when needed.

/** A picked or dropped file and its path ('pets/cat/1.png' for a dropped or picked folder, else the file name). */
export interface PickedFile {
  path: string;
  file: File;
}

/** Picked files: the folder picker gives each its path below the picked folder. */
export function pickedFiles(files: FileList | File[] | null): PickedFile[] {
  return Array.from(files ?? []).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/**
 * Dropped files and folders: folders are walked (to `maxDepth` levels of
 * subfolders) by DataTransferItem.webkitGetAsEntry, each file keeping its
 * path; without entries (some browsers, synthetic drops) the plain file list.
 */
export async function droppedFiles(items: DataTransferItemList | null, fallback: FileList | null, maxDepth: number): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const entries = items ? Array.from(items).map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e) : [];
  if (entries.length === 0) return pickedFiles(fallback);
  const isFile = (e: FileSystemEntry): e is FileSystemFileEntry => e.isFile;
  const isDirectory = (e: FileSystemEntry): e is FileSystemDirectoryEntry => e.isDirectory;
  const walk = async (e: FileSystemEntry, depth: number): Promise<void> => {
    if (isFile(e)) {
      const file = await new Promise<File>((res, rej) => e.file(res, rej));
      out.push({ path: e.fullPath.replace(/^\/+/, '') || file.name, file });
    } else if (isDirectory(e) && depth < maxDepth) {
      const reader = e.createReader();
      // readEntries gives a directory's entries in batches, until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const c of batch) await walk(c, depth + 1);
      }
    }
  };
  for (const e of entries) await walk(e, 0);
  return out;
}

/** Makes `zone` a drop target: highlighted while dragged over, `onDrop` given what was dropped. */
export function dropZone(zone: HTMLElement, onDrop: (e: DragEvent) => void): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    zone.classList.remove('over');
    onDrop(e);
  });
}
