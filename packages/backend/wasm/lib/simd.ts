// Shared helpers of the project's wasm kernels (imported by module entries, never built alone).

/**
 * a·b + c on four lanes. The relaxed build fuses it into one f32x4.relaxed_madd
 * (an FMA where the CPU has one); the plain-SIMD build multiplies, then adds.
 * ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so only one branch is emitted.
 */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** First byte the JavaScript side may use: everything the module owns lies below it. */
export function heapStart(): usize {
  return (__heap_base + 63) & ~63;
}
