import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface JsonlWriter {
  /** Appends one JSON line (synchronously, so a crash loses at most the current line). */
  write(record: unknown): void;
  readonly path: string;
}

/** Writes metrics as JSON lines; pass `writer.write` as `onMetrics`. */
export function jsonlWriter(path: string): JsonlWriter {
  mkdirSync(dirname(path), { recursive: true });
  return {
    path,
    write(record: unknown) {
      appendFileSync(path, JSON.stringify(record) + '\n');
    },
  };
}
