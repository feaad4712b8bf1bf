import { Tokenizer } from '@huggingface/tokenizers';
import type { HostTensor } from '@tfjs-diffusion/samplers';
import { checkOptions, optionKeys, showValue } from '@tfjs-diffusion/schedules';

export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';

export interface ClipTokenizerOptions {
  /** The text of `vocab.json` (or its parsed object): token → id. */
  vocab: string | Record<string, number>;
  /** The text of `merges.txt`: one merge per line, a `#version` line first. */
  merges: string;
  /** The token the batch form pads with: `<|endoftext|>` as Stable Diffusion 1.x (default); SD 2.x pads with `!`. */
  padToken?: string;
  /** The batch form's length (CLIP's context). Default 77. */
  maxLength?: number;
}

export const CLIP_TOKENIZER_KEYS = optionKeys<ClipTokenizerOptions>()(['vocab', 'merges', 'padToken', 'maxLength']);

export interface BatchEncodeOptions {
  /** Default the tokenizer's `maxLength`. */
  maxLength?: number;
}
const BATCH_KEYS = optionKeys<BatchEncodeOptions>()(['maxLength']);

export interface ClipTokenizer {
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly maxLength: number;
  readonly vocabSize: number;
  /** Ids from `<|startoftext|>` to `<|endoftext|>`, unpadded and untruncated. */
  encode(text: string): number[];
  /** [texts.length, maxLength] int32: each row truncated keeping `<|endoftext|>` last, then padded. */
  encodeBatch(texts: readonly string[], opts?: BatchEncodeOptions): HostTensor & { data: Int32Array };
  /** The text of ids (special tokens dropped). */
  decode(ids: readonly number[]): string;
}

// openai/CLIP simple_tokenizer.py: its pattern (applied to cleaned, lower-cased text) and its
// cleaning (whitespace runs → one space); the byte-level BPE with `</w>` ending each word.
const CLIP_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** html.unescape for numeric references and the common named ones (OpenAI's basic_clean unescapes twice). */
function unescapeHtml(text: string): string {
  return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, (all, body: string) => {
    if (body[0] !== '#') return ENTITIES[body] ?? all;
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

function checkLength(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2) throw new RangeError(`${name} must be an integer >= 2; got ${showValue(v)}`);
  return v;
}

function tokenizerJson(vocab: Record<string, number>, merges: string[]) {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(vocab[START_OF_TEXT]!, START_OF_TEXT), special(vocab[END_OF_TEXT]!, END_OF_TEXT)],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: [END_OF_TEXT, vocab[END_OF_TEXT]], cls: [START_OF_TEXT, vocab[START_OF_TEXT]], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: END_OF_TEXT, continuing_subword_prefix: '', end_of_word_suffix: '</w>',
      fuse_unk: false, byte_fallback: false, vocab, merges,
    },
  };
}

function parseVocab(vocab: unknown): Record<string, number> {
  let v = vocab;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (e) {
      throw new Error(`clipTokenizer: vocab is not JSON (the text of vocab.json): ${(e as Error).message}`);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`clipTokenizer: vocab must be the text or object of vocab.json (token → id); got ${showValue(v)}`);
  const rec = v as Record<string, unknown>;
  for (const t of [START_OF_TEXT, END_OF_TEXT]) {
    if (!Number.isInteger(rec[t])) throw new Error(`clipTokenizer: vocab has no id for '${t}'; is it CLIP's vocab.json?`);
  }
  return rec as Record<string, number>;
}

function parseMerges(merges: unknown): string[] {
  if (typeof merges !== 'string') throw new TypeError(`clipTokenizer: merges must be the text of merges.txt; got ${showValue(merges)}`);
  const lines = merges.split(/\r?\n/).filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith('#version')));
  const bad = lines.findIndex((l) => l.split(' ').length !== 2);
  if (bad >= 0) throw new Error(`clipTokenizer: merges line ${bad + 2} is not two tokens separated by one space: ${showValue(lines[bad])}`);
  return lines;
}

/**
 * CLIP's tokenizer (Stable Diffusion's `tokenizer/` folder) from the texts of `vocab.json` and
 * `merges.txt`: `@huggingface/tokenizers` with the pipeline of transformers' CLIPTokenizerFast,
 * which gives OpenAI's ids. HTML entities are unescaped first as OpenAI's cleaning does; ftfy's
 * repairs of mis-decoded text are not made.
 */
export function clipTokenizer(options: ClipTokenizerOptions): ClipTokenizer {
  checkOptions('clipTokenizer', options, CLIP_TOKENIZER_KEYS);
  const vocab = parseVocab(options.vocab);
  const merges = parseMerges(options.merges);
  const maxLength = checkLength('clipTokenizer: maxLength', options.maxLength ?? 77);
  const padToken = options.padToken ?? END_OF_TEXT;
  const padTokenId = vocab[padToken];
  if (!Number.isInteger(padTokenId)) throw new Error(`clipTokenizer: padToken ${showValue(padToken)} is not in the vocab`);
  const tok = new Tokenizer(tokenizerJson(vocab, merges), { model_max_length: maxLength });
  const bosTokenId = vocab[START_OF_TEXT]!;
  const eosTokenId = vocab[END_OF_TEXT]!;
  const vocabSize = Math.max(...Object.values(vocab)) + 1;
  const encode = (text: string): number[] => {
    if (typeof text !== 'string') throw new TypeError(`ClipTokenizer.encode: text must be a string; got ${showValue(text)}`);
    return tok.encode(unescapeHtml(unescapeHtml(text)).trim()).ids;
  };
  return {
    bosTokenId, eosTokenId, padTokenId: padTokenId!, maxLength, vocabSize,
    encode,
    encodeBatch(texts, opts = {}) {
      checkOptions('ClipTokenizer.encodeBatch', opts, BATCH_KEYS);
      if (!Array.isArray(texts)) throw new TypeError(`ClipTokenizer.encodeBatch: texts must be an array of strings; got ${showValue(texts)}`);
      const len = checkLength('ClipTokenizer.encodeBatch: maxLength', opts.maxLength ?? maxLength);
      const data = new Int32Array(texts.length * len).fill(padTokenId!);
      texts.forEach((text, i) => {
        let ids = encode(text);
        if (ids.length > len) ids = [...ids.slice(0, len - 1), eosTokenId];
        data.set(ids, i * len);
      });
      return { data, shape: [texts.length, len] };
    },
    decode: (ids) => tok.decode([...ids], { skip_special_tokens: true }).trim(),
  };
}
