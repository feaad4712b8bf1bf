import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../safetensors.js';
import { clipTokenizer } from './clipTokenizer.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = fileURLToPath(new URL('../../../../../shared/fixtures/clip-text-tiny', import.meta.url));
const vocab = readFileSync(join(FIXTURE, 'tokenizer/vocab.json'), 'utf8');
const merges = readFileSync(join(FIXTURE, 'tokenizer/merges.txt'), 'utf8');
const prompts = JSON.parse(readFileSync(join(FIXTURE, 'prompts.json'), 'utf8')) as Record<string, number[]>;
const tok = clipTokenizer({ vocab, merges });

describe('clipTokenizer', () => {
  it.each(Object.entries(prompts))("gives OpenAI's ids for %j", (text, ids) => {
    expect(tok.encode(text)).toEqual(ids);
  });

  it('pads and truncates as Stable Diffusion 1.x: the fixture input_ids of the first four prompts', () => {
    const io = decodeSafetensors(readFileSync(join(FIXTURE, 'io.safetensors'))).tensors;
    const want = Array.from(io.input_ids!.data as BigInt64Array, Number);
    const got = tok.encodeBatch(Object.keys(prompts).slice(0, 4));
    expect(got.shape).toEqual([4, 77]);
    expect(Array.from(got.data)).toEqual(want);
  });

  it('truncates a long prompt to 77 ids keeping <|endoftext|> last', () => {
    const long = 'cat '.repeat(100);
    expect(tok.encode(long)).toHaveLength(102);
    const { data } = tok.encodeBatch([long]);
    expect(data[0]).toBe(49406);
    expect(Array.from(data.slice(1, 76))).toEqual(new Array(75).fill(prompts['a photo of a cat']![5]));
    expect(data[76]).toBe(49407);
    // An exact fit is left alone; the empty prompt is <|startoftext|> <|endoftext|> then padding.
    expect(Array.from(tok.encodeBatch(['cat '.repeat(75)]).data)).toEqual(tok.encode('cat '.repeat(75)));
    expect(Array.from(tok.encodeBatch([''], { maxLength: 4 }).data)).toEqual([49406, 49407, 49407, 49407]);
  });

  it("cleans as OpenAI's basic_clean and whitespace_clean: html entities, surrounding and repeated whitespace", () => {
    expect(tok.encode('a &amp; b')).toEqual(tok.encode('a & b'));
    expect(tok.encode('a &amp;amp; b')).toEqual(tok.encode('a & b')); // unescaped twice
    expect(tok.encode('&#39;s &#x41;')).toEqual(tok.encode("'s a"));
    expect(tok.encode(' \t red \n  heart ')).toEqual(prompts['red heart']);
  });

  it('pads with another token when asked (SD 2.x pads with "!")', () => {
    const t = clipTokenizer({ vocab, merges, padToken: '!' });
    expect(t.padTokenId).toBe(0);
    expect(Array.from(t.encodeBatch(['red heart']).data.slice(0, 6))).toEqual([49406, 736, 1936, 49407, 0, 0]);
  });

  it('decodes ids back to the cleaned text', () => {
    expect(tok.decode(tok.encode('Red  Heart'))).toBe('red heart');
  });

  it('refuses bad input by name', () => {
    expect(() => clipTokenizer({ vocab, merges, padTokn: '!' } as never)).toThrow(/unknown option 'padTokn'; did you mean 'padToken'/);
    expect(() => clipTokenizer({ vocab: '{"a": 0}', merges })).toThrow(/vocab has no id for '<\|startoftext\|>'/);
    expect(() => clipTokenizer({ vocab: 'not json', merges })).toThrow(/vocab is not JSON/);
    expect(() => clipTokenizer({ vocab, merges: '#version: 0.2\na b c' })).toThrow(/merges line 2 is not two tokens/);
    expect(() => clipTokenizer({ vocab, merges, padToken: '<pad>' })).toThrow(/padToken "<pad>" is not in the vocab/);
    expect(() => tok.encodeBatch(['a'], { maxLength: 1 })).toThrow(/maxLength must be an integer >= 2; got 1/);
    expect(() => tok.encodeBatch('a' as never)).toThrow(/texts must be an array of strings/);
    expect(() => tok.encode(3 as never)).toThrow(/text must be a string; got 3/);
  });
});
