// y ← a·x + y over n floats (n a multiple of 4): the smallest module, used to
// check that the toolchain, both variants and the loader work.
import { madd } from './lib/simd';
export { heapStart } from './lib/simd';

export function axpy(n: i32, a: f32, x: usize, y: usize): void {
  const av = f32x4.splat(a);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, madd(av, v128.load(x + o), v128.load(y + o)));
  }
}
