/**
 * Name patterns for parameter groups: a string is a glob over dotted names
 * (`*` matches any run of characters, dots included; `?` one character), a
 * RegExp is used as is. `'*.bias'`, `'*norm*'`, `'down.0.*'`.
 */
export type NamePattern = string | RegExp;

export function patternToRegExp(pattern: NamePattern): RegExp {
  if (pattern instanceof RegExp) return pattern;
  if (typeof pattern !== 'string') {
    throw new TypeError(`name pattern must be a string glob or a RegExp, got ${typeof pattern}`);
  }
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** True if `name` matches any of `patterns`. */
export function matchesAny(name: string, patterns: readonly NamePattern[]): boolean {
  return patterns.some((p) => {
    const re = patternToRegExp(p);
    re.lastIndex = 0;
    return re.test(name);
  });
}
