import { writeFileAtomic } from '@tfjs-diffusion/schedules/node';

/** Writes PNG bytes to `path` (parents created), whole or not at all (see `writeFileAtomic`). */
export async function writePng(path: string, png: Uint8Array): Promise<void> {
  await writeFileAtomic(path, png);
}
