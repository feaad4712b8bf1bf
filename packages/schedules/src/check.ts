/** Shared argument checks, so every error names the parameter and what it accepts. */

export function quote(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const got = typeof value === 'string' ? `'${value}'` : String(value);
    throw new RangeError(`${name} must be one of ${quote(allowed)}; got ${got}`);
  }
  return value as T;
}

export function checkFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number; got ${String(value)}`);
  }
  return value;
}

export function checkInteger(name: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new RangeError(`${name} must be ${range}; got ${String(value)}`);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false; got ${String(value)}`);
  return value;
}
