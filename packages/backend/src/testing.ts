// Test helpers for packages that use @tfjs-diffusion/backend.
export { registerTensorflowStandIn, type TensorflowStandInOptions } from './testing/tensorflowStandIn.js';
