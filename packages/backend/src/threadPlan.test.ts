import { describe, expect, it } from 'vitest';
import { planThreads } from './threadPlan.js';

describe('planThreads', () => {
  it("runs no worker threads under 'tensorflow' and says so", () => {
    expect(planThreads(2, 'tensorflow')).toEqual({ replicas: 1, message: "threads: 2 requested; using TensorFlow's thread pool, no worker threads" });
    expect(planThreads(8, 'tensorflow').replicas).toBe(1);
  });
  it('one replica per thread on wasm and cpu; one on GPU backends', () => {
    expect(planThreads(2, 'wasm')).toEqual({ replicas: 2, message: "threads: 2 requested; 2 data-parallel replicas on 'wasm' (1 worker thread)" });
    expect(planThreads(3, 'cpu').replicas).toBe(3);
    expect(planThreads(1, 'wasm').replicas).toBe(1);
    expect(planThreads(4, 'webgl').replicas).toBe(1);
  });
  it('rejects a bad count, naming the parameter', () => {
    expect(() => planThreads(0, 'wasm')).toThrow('threads must be a positive integer; got 0');
    expect(() => planThreads(1.5, 'wasm')).toThrow('threads must be a positive integer; got 1.5');
  });
});
