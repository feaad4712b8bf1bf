// Metrics as JSON lines (Node): an appending writer, a reader that survives a
// torn last line, and truncation to a resumed step.
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicSync } from '@tfjs-diffusion/schedules/node';

export interface JsonlWriter {
  /** Appends one JSON line (synchronously, so a crash loses at most the current line). */
  write(record: unknown): void;
  readonly path: string;
}

/** The length of `path` up to and including its last newline (a torn last line is after it). */
function completeLength(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(4096);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - start, start);
      const i = buf.subarray(0, n).lastIndexOf(10);
      if (i >= 0) return start + i + 1;
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes metrics as JSON lines; pass `writer.write` as `onMetrics`. A torn
 * last line (a crash during an append) is cut off first, so new lines never
 * glue onto it.
 */
export function jsonlWriter(path: string): JsonlWriter {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) {
    const keep = completeLength(path);
    if (keep !== fstatSizeOf(path)) truncateSync(path, keep);
  }
  return {
    path,
    write(record: unknown) {
      appendFileSync(path, JSON.stringify(record) + '\n');
    },
  };
}

function fstatSizeOf(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

/**
 * The records of a JSON-lines file ([] when it does not exist). A last line
 * without its newline that does not parse (a torn append) is skipped; a bad
 * line elsewhere is an error naming the file and line.
 */
export function readJsonl(path: string): unknown[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const out: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      if (i === lines.length - 1) break; // torn: no newline after it
      throw new Error(`${path}:${i + 1}: not a JSON line (${(e as Error).message})`);
    }
  }
  return out;
}

export interface MetricsLine {
  step: number;
  [k: string]: unknown;
}

/** The metrics lines of a run (see readJsonl); each must have a numeric `step`. */
export function readMetrics(path: string): MetricsLine[] {
  return readJsonl(path).map((r, i) => {
    if (typeof r !== 'object' || r === null || typeof (r as MetricsLine).step !== 'number') {
      throw new Error(`${path}: record ${i + 1} has no numeric 'step'`);
    }
    return r as MetricsLine;
  });
}

/**
 * Keeps the metrics lines up to `step` (what a run resumed at `step` has
 * already logged) and drops the later ones and a torn last line, so redone
 * steps are not logged twice. Rewritten atomically (temporary file + rename).
 * Returns how many lines were dropped.
 */
export function truncateMetrics(path: string, step: number): number {
  if (!existsSync(path)) return 0;
  const records = readMetrics(path);
  const kept = records.filter((r) => r.step <= step);
  const torn = completeLength(path) !== fstatSizeOf(path);
  if (kept.length === records.length && !torn) return 0;
  writeFileAtomicSync(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  return records.length - kept.length;
}
