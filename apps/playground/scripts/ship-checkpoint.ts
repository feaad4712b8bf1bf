/**
 * Writes the page's shipped model folder (public/models/mnist-tiny) from a
 * demo run: the run's config.json as it is, and model.safetensors holding the
 * EMA weights of its newest checkpoint under the models package's names.
 *
 *   npx tsx --conditions=source scripts/ship-checkpoint.ts <run folder> [out folder]
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '@tfjs-diffusion/models';

const [runArg, outArg] = process.argv.slice(2);
if (!runArg) throw new Error('usage: ship-checkpoint.ts <run folder> [out folder]');
const run = resolve(runArg);
const out = resolve(outArg ?? new URL('../public/models/mnist-tiny', import.meta.url).pathname);
const latest = readFileSync(join(run, 'checkpoints', 'latest'), 'utf8').trim();
const ckpt = join(run, 'checkpoints', latest, 'checkpoint.safetensors');
const file = decodeSafetensors(readFileSync(ckpt), ckpt);
const ema: Record<string, SafetensorsTensor> = {};
for (const [k, t] of Object.entries(file.tensors)) if (k.startsWith('ema.')) ema[k.slice(4)] = t;
if (Object.keys(ema).length === 0) throw new Error(`${ckpt} has no ema.* tensors`);
const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
const step = Number(file.metadata.step ?? latest.replace(/\D/g, ''));
mkdirSync(out, { recursive: true });
const write = (name: string, data: Uint8Array | string) => {
  writeFileSync(join(out, `${name}.tmp`), data);
  renameSync(join(out, `${name}.tmp`), join(out, name));
};
write('model.safetensors', encodeSafetensors(ema, { format: 'pt', library: 'tfjs-diffusion', kind: 'unet', step: String(step), weights: 'ema' }));
write('config.json', JSON.stringify(config, null, 2) + '\n');
console.log(`${out}: ${Object.keys(ema).length} EMA tensors of ${latest} (step ${step})`);
