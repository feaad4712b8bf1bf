import * as tf from '@tensorflow/tfjs';
import { withBroadcastFastPath } from './broadcastBinary.js';

/** `Multiply` with a fast path for group-norm style broadcasting (see broadcastBinary). */
export const multiplyConfig: tf.KernelConfig = withBroadcastFastPath(tf.Multiply, (a, b) => a * b);
