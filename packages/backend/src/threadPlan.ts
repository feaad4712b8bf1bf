export interface ThreadPlan {
  /** Replicas to run, this thread's included: 1 means no worker threads. */
  replicas: number;
  /** One line saying what was requested and what is used, e.g. for a log. */
  message: string;
}

/**
 * How many data-parallel replicas (worker threads, each with its own
 * backend) to run for `requested` threads on `backend` (tfjs' backend name).
 * Under 'tensorflow' (tfjs-node, tfjs-node-gpu) there are none: TensorFlow's
 * own thread pool already uses the cores, and its native binding is fragile
 * inside worker threads. wasm and cpu in Node get one replica per thread.
 * GPU backends get one: a second replica would share the same device.
 */
export function planThreads(requested: number, backend: string): ThreadPlan {
  if (!(Number.isInteger(requested) && requested >= 1)) {
    throw new Error(`threads must be a positive integer; got ${requested}`);
  }
  const s = requested === 1 ? '' : 's';
  if (requested === 1) return { replicas: 1, message: `threads: 1 requested; no worker threads` };
  if (backend === 'tensorflow') {
    return { replicas: 1, message: `threads: ${requested} requested; using TensorFlow's thread pool, no worker threads` };
  }
  if (backend === 'webgl' || backend === 'webgpu') {
    return { replicas: 1, message: `threads: ${requested} requested; the '${backend}' backend runs on the GPU, no worker threads` };
  }
  return { replicas: requested, message: `threads: ${requested} requested; ${requested} data-parallel replica${s} on '${backend}' (${requested - 1} worker thread${requested - 1 === 1 ? '' : 's'})` };
}
