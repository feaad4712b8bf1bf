// Our U-Net parameter names ↔ diffusers' state_dict names, and how each tensor's layout differs.

const ATTN_PARTS: Record<string, string> = { q: 'to_q', k: 'to_k', v: 'to_v', out: 'to_out.0' };

/** diffusers' name of a part of a Transformer2DModel (`projIn`, `blocks.0.attn2.k`, …), below its `attentions.i`. */
function transformerPart(part: string): string | undefined {
  if (part === 'norm') return 'norm';
  if (part === 'projIn') return 'proj_in';
  if (part === 'projOut') return 'proj_out';
  const m = /^blocks\.(\d+)\.(.+)$/.exec(part);
  if (!m) return undefined;
  const base = `transformer_blocks.${m[1]}`;
  const rest = m[2]!;
  if (/^norm[123]$/.test(rest)) return `${base}.${rest}`;
  if (rest === 'ff.proj') return `${base}.ff.net.0.proj`;
  if (rest === 'ff.out') return `${base}.ff.net.2`;
  const a = /^(attn[12])\.(q|k|v|out)$/.exec(rest);
  return a ? `${base}.${a[1]}.${ATTN_PARTS[a[2]!]}` : undefined;
}

export type Layout = 'conv' | 'dense' | 'vector' | 'table' | 'qkv' | 'attnOut';

/** One diffusers tensor behind (part of) one of our parameters. */
export interface Source {
  name: string;
  /** For `qkv`: which third (q, k, v). */
  part?: number;
}

const RES_PARTS: Record<string, string> = { norm1: 'norm1', conv1: 'conv1', emb: 'time_emb_proj', norm2: 'norm2', conv2: 'conv2', skip: 'conv_shortcut' };
const SUFFIX: Record<string, string> = { kernel: 'weight', bias: 'bias', gamma: 'weight', beta: 'bias', table: 'weight' };

/** diffusers' name(s) of one of our U-Net parameters, and how its layout differs. */
export function mapName(name: string, levels: number, rank = 2): { sources: Source[]; layout: Layout } {
  const fail = (): never => { throw new Error(`toDiffusers: no diffusers name for parameter '${name}'`); };
  const m = /^(.*)\.(kernel|bias|gamma|beta|table)$/.exec(name) ?? fail();
  const [, path = '', leaf = ''] = m; // both groups always match
  const suffix = SUFFIX[leaf]!;
  const isVec = leaf !== 'kernel' && leaf !== 'table';
  const simple = (p: string, layout: Layout) => ({ sources: [{ name: `${p}.${suffix}` }], layout: isVec ? 'vector' as Layout : layout });
  if (path === 'convIn') return simple('conv_in', 'conv');
  if (path === 'convOut') return simple('conv_out', 'conv');
  if (path === 'normOut') return simple('conv_norm_out', 'vector');
  if (path === 'timeEmbed.0') return simple('time_embedding.linear_1', 'dense');
  if (path === 'timeEmbed.1') return simple('time_embedding.linear_2', 'dense');
  if (path === 'classEmbed') return { sources: [{ name: 'class_embedding.weight' }], layout: 'table' };
  const block = (where: string): string => {
    let r = /^down\.(\d+)$/.exec(where);
    if (r) return `down_blocks.${r[1]}`;
    r = /^up\.(\d+)$/.exec(where);
    if (r) return `up_blocks.${levels - 1 - Number(r[1])}`;
    if (where === 'mid') return 'mid_block';
    return fail();
  };
  let r = /^(down\.\d+|up\.\d+|mid)\.res\.(\d+)\.(\w+)$/.exec(path);
  if (r) return simple(`${block(r[1]!)}.resnets.${r[2]}.${RES_PARTS[r[3]!] ?? fail()}`, r[3]!.startsWith('conv') || r[3] === 'skip' ? 'conv' : 'dense');
  r = /^(down\.\d+|up\.\d+)\.attn\.(\d+)\.(\w+)$/.exec(path) ?? /^(mid)\.attn()\.(\w+)$/.exec(path);
  if (r) {
    const base = `${block(r[1]!)}.attentions.${r[2] || 0}`;
    if (r[3] === 'norm') return simple(`${base}.group_norm`, 'vector');
    if (r[3] === 'out') return simple(`${base}.to_out.0`, 'attnOut');
    if (r[3] === 'qkv') return { sources: ['to_q', 'to_k', 'to_v'].map((q, part) => ({ name: `${base}.${q}.${suffix}`, part })), layout: isVec ? 'vector' : 'qkv' };
    return fail();
  }
  r = /^(down\.\d+|up\.\d+)\.transformer\.(\d+)\.(.+)$/.exec(path) ?? /^(mid)\.transformer()\.(.+)$/.exec(path);
  if (r) {
    const inner = transformerPart(r[3]!) ?? fail();
    const layout: Layout = inner.endsWith('proj_in') || inner.endsWith('proj_out') ? (rank === 4 ? 'conv' : 'dense') : 'dense';
    return simple(`${block(r[1]!)}.attentions.${r[2] || 0}.${inner}`, layout);
  }
  r = /^down\.(\d+)\.downsample$/.exec(path);
  if (r) return simple(`down_blocks.${r[1]}.downsamplers.0.conv`, 'conv');
  r = /^up\.(\d+)\.upsample$/.exec(path);
  if (r) return simple(`up_blocks.${levels - 1 - Number(r[1])}.upsamplers.0.conv`, 'conv');
  return fail();
}
