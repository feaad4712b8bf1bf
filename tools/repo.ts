// What the repository's own text may say: checks shared by tools/repo.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ROOT } from './readme.js';

const BINARY = /\.(png|jpe?g|gif|ico|webp|safetensors|wasm|bin|gz|tgz|zip)$/i;

/** Tracked text files, relative to the root (the lockfile and the license text aside). */
export function trackedTextFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && !BINARY.test(f) && f !== 'pnpm-lock.yaml' && f !== 'LICENSE' && existsSync(join(ROOT, f)));
}

export interface Finding { file: string; line: number; text: string; why: string }

/** Text that describes the machine a run happened on rather than the repository. */
const FORBIDDEN: { re: RegExp; why: string }[] = [
  { re: /(?<![\w.~-])\/(?:work|tmp|home|root|Users|mnt)\/[\w.-]/, why: 'absolute machine path (write the command relative to the repository root)' },
  { re: /\b[A-Z]:\\Users\\/, why: 'absolute machine path' },
  // upstream trackers (tfjs issues 2079, …) stay citable; a bare "issue 18" names nothing a reader can open
  { re: /(?<!tfjs |tfjs's |github\.com\/[\w/.-]{0,60})\bissues? #?\d+/i, why: 'reference to an issue number outside the repository' },
  { re: /\bsessions?\b/i, why: 'mention of how the repository was worked on' },
];

/** Lines of `text` that match a forbidden pattern. */
export function forbiddenText(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { re, why } of FORBIDDEN) if (re.test(line)) out.push({ file, line: i + 1, text: line.trim().slice(0, 160), why });
  });
  return out;
}

/** Relative Markdown link targets of `markdown`, outside fenced code blocks. */
export function markdownLinks(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    const stripped = line.replace(/`[^`]*`/g, '');
    for (const m of stripped.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^([a-z][a-z0-9+.-]*:|#)/i.test(target)) continue;
      out.push({ target, line: i + 1 });
    }
  });
  return out;
}

/** Markdown links of `file` (relative to the root) whose target is not in the repository. */
export function brokenLinks(file: string, markdown: string): Finding[] {
  return markdownLinks(markdown)
    .filter(({ target }) => {
      const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
      return !existsSync(resolve(ROOT, dirname(file), path));
    })
    .map(({ target, line }) => ({ file, line, text: target, why: 'link to a file that is not in the repository' }));
}

/** Source files under packages/ and apps/ (generated and vendored code aside). */
export function sourceFiles(files: string[]): string[] {
  return files.filter((f) => /^(packages|apps|tools|bench)\//.test(f) && /\.(ts|tsx|js|mjs|cjs)$/.test(f)
    && !/(^|\/)(dist|generated|node_modules)\//.test(f) && !/\.generated\.|\.d\.ts$/.test(f));
}

/** Number of lines of a file's text. */
export function lineCount(text: string): number {
  return text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
}

export const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
