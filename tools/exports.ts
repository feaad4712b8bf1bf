// The public names of each published package: what its entry files (the
// `source` targets of its package.json exports) export, read from their
// syntax. Entries list their exports by name, so the syntax is the whole list.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { publishedPackages, ROOT } from './readme.js';

export interface EntryExports {
  /** The package's name and the subpath ('.', './node', …). */
  pkg: string;
  subpath: string;
  /** The entry file, relative to the root. */
  file: string;
  names: string[];
  /** `export * from '…'` statements (each one hides what it exports). */
  stars: string[];
}

/** Names an entry's text exports, and its `export *` module specifiers. */
export function exportsOf(text: string): { names: string[]; stars: string[] } {
  const sf = ts.createSourceFile('entry.ts', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const names: string[] = [];
  const stars: string[] = [];
  const exported = (n: ts.Node) => ts.canHaveModifiers(n) && !!ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const s of sf.statements) {
    if (ts.isExportDeclaration(s)) {
      const spec = s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier) ? s.moduleSpecifier.text : '';
      if (!s.exportClause) stars.push(spec);
      else if (ts.isNamespaceExport(s.exportClause)) names.push(s.exportClause.name.text);
      else for (const e of s.exportClause.elements) names.push(e.name.text);
    } else if (exported(s)) {
      if (ts.isVariableStatement(s)) {
        for (const d of s.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
      } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s)) && s.name) {
        names.push(s.name.text);
      }
    }
  }
  return { names, stars };
}

/** Every entry of every published package. */
export function packageEntries(): EntryExports[] {
  return publishedPackages().flatMap((p) => {
    const manifest = JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    return Object.entries(manifest.exports).flatMap(([subpath, target]) => {
      const source = typeof target === 'object' && target !== null ? (target as { source?: string }).source : undefined;
      if (!source) return [];
      const file = relative(ROOT, join(p.path, source));
      return [{ pkg: p.name, subpath, file, ...exportsOf(readFileSync(join(ROOT, file), 'utf8')) }];
    });
  });
}

/** Names exported by more than one package, with where (`pkg/subpath`). */
export function duplicateNames(entries: EntryExports[]): Map<string, string[]> {
  const where = new Map<string, Set<string>>();
  const byName = new Map<string, string[]>();
  for (const e of entries) {
    for (const n of new Set(e.names)) {
      const pkgs = where.get(n) ?? new Set();
      pkgs.add(e.pkg);
      where.set(n, pkgs);
      byName.set(n, [...(byName.get(n) ?? []), e.subpath === '.' ? e.pkg : `${e.pkg}${e.subpath.slice(1)}`]);
    }
  }
  return new Map([...byName].filter(([n]) => where.get(n)!.size > 1));
}
