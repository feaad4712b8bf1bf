/**
 * Writes the page's shipped model folder (public/models/mnist-tiny) from a
 * demo run: the run's config.json as it is, and model.safetensors with the
 * inference (EMA) weights of its newest checkpoint, as the training package
 * writes a run folder's model.safetensors.
 *
 *   npx tsx --conditions=source scripts/ship-checkpoint.ts <run folder | its checkpoints/ckpt-* folder> [out folder]
 */
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readCheckpoint, writeModelFolder } from '@tfjs-diffusion/training/node';

const [runArg, outArg] = process.argv.slice(2);
if (!runArg) throw new Error('usage: ship-checkpoint.ts <run folder | checkpoints/ckpt-* folder> [out folder]');
// A ckpt-* folder ships that checkpoint; a run folder its newest one.
const arg = resolve(runArg);
const run = existsSync(join(arg, 'config.json')) ? arg : resolve(arg, '..', '..');
const out = resolve(outArg ?? new URL('../public/models/mnist-tiny', import.meta.url).pathname);
const ck = await readCheckpoint(arg === run ? join(run, 'checkpoints') : arg);
mkdirSync(out, { recursive: true });
copyFileSync(join(run, 'config.json'), join(out, 'config.json.tmp'));
renameSync(join(out, 'config.json.tmp'), join(out, 'config.json'));
await writeModelFolder(out, ck);
console.log(`${out}: inference weights of ${ck.path} (step ${ck.state.step})`);
