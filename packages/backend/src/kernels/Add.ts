import * as tf from '@tensorflow/tfjs';
import { withBroadcastFastPath } from './broadcastBinary.js';

/** `Add` with a fast path for group-norm style broadcasting (see broadcastBinary). */
export const addConfig: tf.KernelConfig = withBroadcastFastPath(tf.Add, (a, b) => a + b);
