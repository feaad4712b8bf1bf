// The demo's LoRA pieces: the fine-tune and sample flags, training an adapter on a run's model,
// and applying adapter files for sampling.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { addLora, encodeLora, loadLora, loraTrainable, type LoraAdapter } from '@tfjs-diffusion/models';
import { showValue } from '@tfjs-diffusion/schedules';
import type { Trainer } from '@tfjs-diffusion/training';
import { loadWeightsFrom } from '@tfjs-diffusion/training/node';
import type { DemoModel } from './build.js';
import { type RunLora, writeFileAtomic } from './runFolder.js';

/** The adapter file a LoRA run writes beside its checkpoints: diffusers' name. */
export const LORA_FILE = 'pytorch_lora_weights.safetensors';

const positive = (name: string, integer: boolean) => (v: string) => {
  const n = Number(v);
  if (!(integer ? Number.isInteger(n) : Number.isFinite(n)) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive ${integer ? 'integer' : 'number'}; got '${v}'`);
  return n;
};

/** `--lora-rank`, `--lora-alpha`, `--lora-targets` of `fine-tune`. */
export function addLoraTrainFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--lora-rank <r>', 'train a LoRA adapter of this rank instead of the weights (writes pytorch_lora_weights.safetensors)')
      .argParser(positive('--lora-rank', true)).default(undefined, 'none: the weights train'))
    .addOption(new Option('--lora-alpha <a>', 'LoRA alpha: the update is scaled by alpha / rank').argParser(positive('--lora-alpha', false)).default(undefined, 'the rank'))
    .addOption(new Option('--lora-targets <modules>', "comma-separated module names, as PEFT's target_modules")
      .default(undefined, 'to_q,to_k,to_v,to_out.0; conv1,conv2,time_emb_proj for a model without attention'));
}

/** The fine-tune flags as a RunLora; undefined without --lora-rank (the others alone are refused). */
export function runLoraOf(o: { loraRank?: number; loraAlpha?: number; loraTargets?: string }): RunLora | undefined {
  if (o.loraRank === undefined) {
    if (o.loraAlpha !== undefined || o.loraTargets !== undefined) throw new Error('--lora-alpha and --lora-targets need --lora-rank');
    return undefined;
  }
  const targets = o.loraTargets?.split(',').map((s) => s.trim()).filter(Boolean);
  return { rank: o.loraRank, ...(o.loraAlpha !== undefined && { alpha: o.loraAlpha }), ...(targets?.length && { targets }) };
}

/** `--lora <file>[:weight]`, repeatable, of `sample`. */
export function sampleLoraOption(): Option {
  return new Option('--lora <file[:weight]>', 'apply a LoRA adapter file (diffusers pytorch_lora_weights.safetensors) at a weight (default 1); repeatable')
    .argParser((v: string, prev: LoraFile[] = []) => [...prev, parseLoraFlag(v)])
    .default([], 'none');
}

export interface LoraFile {
  path: string;
  weight: number;
}

/** `file.safetensors:0.5` → the file and its weight; a path with no `:number` ending has weight 1. */
export function parseLoraFlag(v: string): LoraFile {
  const m = /^(.*):([^:/\\]*)$/.exec(v);
  if (m && m[1] && /^[-+]?[\d.]+(e[-+]?\d+)?$/i.test(m[2]!)) {
    const weight = Number(m[2]);
    if (!Number.isFinite(weight)) throw new InvalidArgumentError(`--lora ${showValue(v)}: the weight after ':' must be a number`);
    return { path: m[1], weight };
  }
  return { path: v, weight: 1 };
}

/** Reads each adapter file onto the model and merges it (so worker threads sample with it too). */
export function applyLoraFiles(model: DemoModel, files: readonly LoraFile[]): LoraAdapter[] {
  return files.map((f, i) => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(f.path);
    } catch (e) {
      throw new Error(`--lora ${f.path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const a = loadLora(model, bytes, { name: `lora${i}`, weight: f.weight, source: f.path });
    a.merge();
    return a;
  });
}

/** A label of the adapters for file names: `lora-<name>x<weight>`. */
export const loraTag = (files: readonly LoraFile[]): string =>
  files.map((f) => `-lora-${basename(f.path).replace(/\.safetensors$/, '').replace(/[^\w.-]/g, '_').slice(0, 40)}x${f.weight}`).join('');

/**
 * A LoRA run: the source's weights into the base model, then the adapter. The trainer gets
 * `denoiser` (only the adapter trains); `write` saves the adapter file (the EMA's when there is one).
 */
export async function startLoraTraining(model: DemoModel, lora: RunLora, source: string) {
  await loadWeightsFrom(model, source, { ema: true });
  const hasAttention = model.parameters().some((p) => p.name.includes('.attn'));
  const targets = lora.targets ?? (hasAttention ? ['to_q', 'to_k', 'to_v', 'to_out.0'] : ['conv1', 'conv2', 'time_emb_proj']);
  const adapter = addLora(model, { rank: lora.rank, alpha: lora.alpha, targets });
  return {
    adapter,
    denoiser: loraTrainable(model, [adapter]),
    describe: () => `LoRA rank ${lora.rank} (alpha ${lora.alpha ?? lora.rank}) on ${adapter.pairs.length} modules: ${adapter.numParameters().toLocaleString('en')} trained parameters of ${model.numParameters().toLocaleString('en')}`,
    /** Samples (or anything) with the adapter folded into the weights, as worker threads need it. */
    async merged<T>(f: () => Promise<T>): Promise<T> {
      adapter.merge();
      try { return await f(); } finally { adapter.unmerge(); }
    },
    write(dir: string, trainer: Trainer): string {
      const file = join(dir, LORA_FILE);
      const bytes = trainer.ema ? trainer.ema.withAveraged(() => encodeLora(adapter)) : encodeLora(adapter);
      writeFileAtomic(file, bytes);
      return file;
    },
  };
}
