/**
 * Values quoted in error messages, bounded: a hostile file's 10 MB array or 10,000-deep
 * nesting gives a message of at most `max` characters (about), never an echo of the file or a stack overflow.
 */

const MAX = 200;
const DEPTH = 3;

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

function render(v: unknown, budget: number, depth: number): string {
  if (typeof v === 'string') return JSON.stringify(v.length > budget ? `${v.slice(0, budget)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null || v === undefined) return String(v);
  if (typeof v === 'function' || typeof v === 'symbol') return typeof v;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${'length' in v && typeof v.length === 'number' ? v.length : v.byteLength})`;
  const isArray = Array.isArray(v);
  if (depth >= DEPTH) return isArray ? '[…]' : '{…}';
  const entries: string[] = [];
  let used = 2;
  let shown = 0;
  const total = isArray ? (v as unknown[]).length : Object.keys(v as object).length;
  const items: Iterable<[string | undefined, unknown]> = isArray
    ? (function* () { for (let i = 0; i < (v as unknown[]).length; i++) yield [undefined, (v as unknown[])[i]] as [undefined, unknown]; })()
    : (function* () { for (const k in v as object) if (Object.prototype.hasOwnProperty.call(v, k)) yield [k, (v as Record<string, unknown>)[k]] as [string, unknown]; })();
  for (const [k, x] of items) {
    if (used >= budget) break;
    const s = (k === undefined ? '' : `${JSON.stringify(cut(k, 40))}: `) + render(x, budget - used, depth + 1);
    entries.push(s);
    used += s.length + 2;
    shown++;
  }
  const more = total - shown;
  const body = entries.join(', ') + (more > 0 ? `${entries.length ? ', ' : ''}… ${more.toLocaleString('en')} more` : '');
  return isArray ? `[${body}]` : `{${body}}`;
}

/** A value for an error message (JSON-like), at most about `max` characters: long arrays and strings are cut, deep nesting elided. */
export function showValue(value: unknown, max = MAX): string {
  return cut(render(value, max, 0), max + 20);
}

/** Names for an error message ("a, b, c, … and 199,997 more"), at most about `max` characters. */
export function showList(items: readonly string[], max = MAX): string {
  const out: string[] = [];
  let used = 0;
  for (const it of items) {
    const s = cut(it, max);
    if (out.length > 0 && used + s.length + 2 > max) break;
    out.push(s);
    used += s.length + 2;
  }
  const more = items.length - out.length;
  return out.join(', ') + (more > 0 ? `, … and ${more.toLocaleString('en')} more` : '');
}

/**
 * Refuses a parsed JSON value nested deeper than `max` levels, checked without recursion: a
 * hostile file 100,000 levels deep would otherwise overflow the stack of whatever reads it next
 * (structuredClone, JSON.stringify, a schema).
 */
export function checkNesting(value: unknown, where: string, max = 64): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d >= max) throw new RangeError(`${where}: nested more than ${max} levels deep; a config is a few levels of objects and arrays`);
    for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k)) stack.push([(v as Record<string, unknown>)[k], d + 1]);
  }
}
