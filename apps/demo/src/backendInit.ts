import { initBackend } from '@tfjs-diffusion/backend';

let done: Promise<{ name: string; kernels: string[]; threads: number }> | undefined;

/** Picks the backend once per process; the backend package prints its choice (one line) unless quiet. */
export async function initDemoBackend(quiet = false): Promise<{ name: string; threads: number }> {
  done ??= initBackend({ quiet });
  return done;
}
