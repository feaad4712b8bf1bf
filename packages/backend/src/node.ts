// Node-only parts of @tfjs-diffusion/backend: data parallelism over worker threads.
export * from './parallel/index.js';
