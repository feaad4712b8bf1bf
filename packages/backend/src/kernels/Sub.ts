import * as tf from '@tensorflow/tfjs';
import { withBroadcastFastPath } from './broadcastBinary.js';

/** `Sub` with a fast path for group-norm style broadcasting (see broadcastBinary). */
export const subConfig: tf.KernelConfig = withBroadcastFastPath(tf.Sub, (a, b) => a - b);
