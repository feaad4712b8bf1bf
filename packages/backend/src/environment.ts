// Node facts read at call time through `process`, never imported: the main
// entry stays free of Node built-ins so it bundles for a browser as is.

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node !== undefined ? p : undefined;
}

/** True in Node (also in its worker threads), false in a browser page or worker. */
export function isNode(): boolean {
  return nodeProcess() !== undefined;
}

/** Cores available to this process in Node (20.16+), or navigator.hardwareConcurrency elsewhere. */
export function nodeCores(): number | undefined {
  const os = nodeProcess()?.getBuiltinModule?.('os') as { availableParallelism?: () => number } | undefined;
  const n = os?.availableParallelism?.() ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return n !== undefined && n >= 1 ? n : undefined;
}

/** Sets an environment variable in Node unless the user set it; no-op elsewhere. */
export function setNodeEnv(name: string, value: string): void {
  const env = nodeProcess()?.env;
  if (env !== undefined && env[name] === undefined) env[name] = value;
}
