// Import cycles between the TypeScript files of each package and app: the
// static imports and re-exports (type-only ones too), as tsc and a bundler
// see them. `npx tsx tools/cycles.ts` prints them and exits 1 if there is one.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { sourceFiles, trackedTextFiles } from './repo.js';
import { ROOT } from './readme.js';

/** Relative module specifiers a file imports or re-exports statically. */
export function importsOf(text: string): string[] {
  const sf = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const s of sf.statements) {
    const spec = (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) ? s.moduleSpecifier : undefined;
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) out.push(spec.text);
  }
  return out;
}

/** The file (relative to the root) a relative specifier of `from` names, if it is one of `known`. */
export function resolveImport(from: string, spec: string, known: Set<string>): string | undefined {
  const base = relative(ROOT, resolve(ROOT, dirname(from), spec));
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => known.has(c));
}

/** Every cycle of the graph, one per strongly connected component (Tarjan), as a path that returns to its start. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>(), stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
      const self = (graph.get(v) ?? []).includes(v);
      if (scc.length > 1 || self) cycles.push(cyclePath(graph, new Set(scc), v));
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return cycles;
}

/** A shortest path from `start` back to itself inside one component. */
function cyclePath(graph: Map<string, string[]>, scc: Set<string>, start: string): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
    }
  }
  return [start, start];
}

/** The import graph of the repository's TypeScript sources (tests included). */
export function repoGraph(): Map<string, string[]> {
  const files = sourceFiles(trackedTextFiles()).filter((f) => /\.m?ts$/.test(f) && existsSync(join(ROOT, f)));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const deps = importsOf(readFileSync(join(ROOT, f), 'utf8')).map((s) => resolveImport(f, s, known)).filter((x): x is string => !!x);
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

/**
 * Cycles whose removal belongs to a change under way, each named by one file
 * in it; remove a name once its cycle is gone (the check says when).
 */
export const PENDING_CYCLES: readonly string[] = [];

/** Cycles not covered by PENDING_CYCLES, and pending names whose cycle is gone. */
export function checkCycles(cycles: string[][], pending: readonly string[] = PENDING_CYCLES): { failing: string[][]; stale: string[] } {
  const failing = cycles.filter((c) => !c.some((f) => pending.includes(f)));
  const stale = pending.filter((p) => !cycles.some((c) => c.includes(p)));
  return { failing, stale };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cycles = findCycles(repoGraph());
  const { failing, stale } = checkCycles(cycles);
  for (const c of cycles) console.error(`${failing.includes(c) ? 'import cycle' : 'import cycle (pending)'}: ${c.join(' → ')}`);
  for (const p of stale) console.error(`no cycle goes through ${p} any more: remove it from PENDING_CYCLES in tools/cycles.ts`);
  console.log(`${cycles.length} import cycle${cycles.length === 1 ? '' : 's'}, ${failing.length} not pending`);
  process.exit(failing.length ? 1 : 0);
}
