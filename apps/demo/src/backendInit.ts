import { initBackend } from '@tfjs-diffusion/backend';

let done: Promise<{ name: string; kernels: string[]; threads: number }> | undefined;

/** Picks the backend once per process and prints the choice. */
export async function initDemoBackend(quiet = false): Promise<{ name: string; threads: number }> {
  const first = !done;
  done ??= initBackend({ quiet: true });
  const info = await done;
  if (first && !quiet) {
    console.log(`backend: ${info.name} (${info.threads} thread${info.threads === 1 ? '' : 's'}${info.kernels.length ? `, training kernels: ${info.kernels.join(', ')}` : ''})`);
  }
  return info;
}
