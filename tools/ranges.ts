// Dependency ranges as a registry sees them: what `pnpm pack` must leave in a
// tarball's package.json for it to install from npm beside the others.

const FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const;

type Version = [number, number, number];

function parse(v: string): Version | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether `version` satisfies `range` (exact, `^x.y.z` or `~x.y.z`, npm's meaning; no prereleases). */
export function satisfies(range: string, version: string): boolean {
  const v = parse(version);
  const m = /^([\^~]?)(\d+\.\d+\.\d+)$/.exec(range);
  const base = m && parse(m[2]!);
  if (!v || !m || !base) return false;
  if (cmp(v, base) < 0) return false;
  if (m[1] === '') return cmp(v, base) === 0;
  if (m[1] === '~') return v[0] === base[0] && v[1] === base[1];
  // caret: the left-most non-zero part is fixed
  if (base[0] > 0) return v[0] === base[0];
  if (base[1] > 0) return v[0] === 0 && v[1] === base[1];
  return v[0] === 0 && v[1] === 0 && v[2] === base[2];
}

/**
 * Problems of a packed manifest: a `workspace:` range left in any field, or a
 * range on one of this repository's packages (`versions`: name → version)
 * that its current version does not satisfy.
 */
export function registryRangeProblems(name: string, manifest: Record<string, unknown>, versions: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const field of FIELDS) {
    for (const [dep, range] of Object.entries((manifest[field] ?? {}) as Record<string, string>)) {
      if (range.startsWith('workspace:')) out.push(`${name}: ${field}.${dep} is still '${range}' in the tarball`);
      else if (versions.has(dep) && !satisfies(range, versions.get(dep)!)) {
        out.push(`${name}: ${field}.${dep} is '${range}', which ${dep} ${versions.get(dep)} does not satisfy`);
      }
    }
  }
  return out;
}
