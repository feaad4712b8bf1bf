import * as tf from '@tensorflow/tfjs';
import { withBroadcastFastPath } from './broadcastBinary.js';

/** `RealDiv` with a fast path for group-norm style broadcasting (see broadcastBinary). */
export const realDivConfig: tf.KernelConfig = withBroadcastFastPath(tf.RealDiv, (a, b) => a / b);
