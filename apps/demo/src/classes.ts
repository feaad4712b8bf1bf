// `--class` by index or by the run's class names (a folder's subfolders, the emoji categories).
import { editDistance } from '@tfjs-diffusion/schedules';

/** The known names, nearest to `name` first (edit distance, case and spacing ignored; ties in the run's order). */
export function nearestFirst(name: string, known: readonly string[]): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, ' ').trim();
  const key = norm(name);
  return known.map((k, i) => ({ k, i, d: editDistance(key, norm(k)) })).sort((a, b) => a.d - b.d || a.i - b.i).map((x) => x.k);
}

/**
 * The class index of each `--class` item: an integer in [0, numClasses), or one of `names`
 * (exact, else case-insensitive). An unknown name is refused listing the known ones, nearest first.
 */
export function classIndices(items: readonly (string | number)[], names: readonly string[], numClasses: number): number[] {
  return items.map((item) => {
    const s = String(item).trim();
    if (/^-?\d+$/.test(s)) {
      const k = Number(s);
      if (k < 0 || k >= numClasses) throw new Error(`--class must be integers in [0, ${numClasses - 1}]${names.length ? ' or class names' : ''}; got ${k}`);
      return k;
    }
    const exact = names.indexOf(s);
    if (exact >= 0 && exact < numClasses) return exact;
    const loose = names.findIndex((n) => n.toLowerCase() === s.toLowerCase());
    if (loose >= 0 && loose < numClasses) return loose;
    if (!names.length) throw new Error(`--class ${JSON.stringify(s)}: this model's classes have no names; give an index in [0, ${numClasses - 1}]`);
    const near = nearestFirst(s, names.slice(0, numClasses));
    throw new Error(`--class ${JSON.stringify(s)}: no class of that name; the run's classes, nearest first: ${near.map((n) => JSON.stringify(n)).join(', ')} (or an index in [0, ${numClasses - 1}])`);
  });
}
