/** One row of a metadata file, or why its line was refused; `line` counts from 1. */
export type MetadataRow = { line: number; row: Record<string, unknown> } | { line: number; error: string };

/** The metadata file names `imagefolder` reads, in the order they are read. */
export const METADATA_FILES = ['metadata.jsonl', 'metadata.csv'] as const;

/** Rows of a metadata.jsonl (one JSON object per line) or metadata.csv (a header, then RFC 4180 records). */
export function parseMetadata(text: string, format: 'jsonl' | 'csv'): MetadataRow[] {
  return format === 'jsonl' ? parseJsonl(text) : parseCsv(text);
}

function parseJsonl(text: string): MetadataRow[] {
  const out: MetadataRow[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    if (!l.trim()) return;
    try {
      const row: unknown = JSON.parse(l);
      if (typeof row !== 'object' || row === null || Array.isArray(row)) out.push({ line: i + 1, error: 'a metadata row must be a JSON object' });
      else out.push({ line: i + 1, row: row as Record<string, unknown> });
    } catch (e) {
      out.push({ line: i + 1, error: `not JSON: ${(e as Error).message}` });
    }
  });
  return out;
}

// Fields split on commas; "…" quotes commas, newlines and "" (a quote).
function parseCsv(text: string): MetadataRow[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const s = text.replace(/^\uFEFF/, '');
  const end = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== '') records.push({ line: start, fields });
    fields = [];
    field = '';
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') (fields.push(field), (field = ''));
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      end();
      start = ++line;
    } else field += c;
  }
  end();
  const [header, ...rest] = records;
  if (!header) return [];
  return rest.map((r) =>
    r.fields.length !== header.fields.length
      ? { line: r.line, error: `has ${r.fields.length} fields; the header has ${header.fields.length}` }
      : { line: r.line, row: Object.fromEntries(header.fields.map((h, k) => [h, r.fields[k]!])) },
  );
}
