import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '@tfjs-diffusion/models/node';
import { writeFileAtomic } from '@tfjs-diffusion/schedules/node';
import type { CachedClassifier, ClassifierCache } from './classifier.js';

/**
 * A classifier cache in a folder: `classifier.safetensors` (the weights) and
 * `classifier.json` (key, config, test accuracy), each written atomically.
 * A missing, stale or damaged cache loads as undefined.
 */
export function classifierCache(dir: string): ClassifierCache {
  const weights = join(dir, 'classifier.safetensors');
  const meta = join(dir, 'classifier.json');
  return {
    async load(key: string): Promise<CachedClassifier | undefined> {
      let m: { key?: string; config?: CachedClassifier['config']; testAccuracy?: number };
      try {
        m = JSON.parse(await readFile(meta, 'utf8'));
      } catch {
        return undefined;
      }
      if (m.key !== key || m.config === undefined || typeof m.testAccuracy !== 'number') return undefined;
      try {
        return { tensors: (await readSafetensors(weights)).tensors, config: m.config, testAccuracy: m.testAccuracy };
      } catch {
        return undefined;
      }
    },
    async save(key: string, entry: CachedClassifier): Promise<void> {
      await writeSafetensors(weights, entry.tensors, { format: 'tfjs-diffusion-classifier' });
      await writeFileAtomic(meta, JSON.stringify({ key, config: entry.config, testAccuracy: entry.testAccuracy }, null, 2) + '\n');
    },
  };
}
