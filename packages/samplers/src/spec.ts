import { clip } from './clip.js';
import { dynamicThreshold } from './dynamic-threshold.js';
import { callWithUncheckedOptions } from './entry.js';
import { SAMPLER_REGISTRY } from './registry.js';
import type { FactorySpec, Sampler, X0Processor } from './types.js';

// The registry's factories by export name: what a spec's `factory` names.
const SAMPLERS: Record<string, (options: never) => Sampler> = Object.fromEntries(SAMPLER_REGISTRY.map((e) => [e.factory, e.create]));
const PROCESSORS: Record<string, (options: never) => X0Processor> = { clip, dynamicThreshold };

function plain(call: FactorySpec, what: string): FactorySpec {
  const options = call.options;
  if (options === null || typeof options !== 'object') return { factory: call.factory, options };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === 'x0Processor') out[key] = describeX0Processor(value as X0Processor);
    else if (typeof value === 'function') throw new Error(`${what}: option ${key} is a function, which cannot be described as data`);
    else out[key] = value;
  }
  return { factory: call.factory, options: out };
}

/**
 * A built-in sampler as plain data (factory name and options, its x0 processor described too), so a
 * worker thread can build the same sampler with `samplerFromSpec`. A sampler written by hand has no
 * description (a function cannot be sent to another thread): this throws, naming it; such a sampler
 * runs with `sample()` on the calling thread only.
 */
export function describeSampler(sampler: Sampler): FactorySpec {
  if (!sampler.spec || !Object.hasOwn(SAMPLERS, sampler.spec.factory)) {
    throw new Error(`describeSampler: sampler '${sampler.name}' was not built by one of ${Object.keys(SAMPLERS).join(', ')}, so it cannot be described as data for another thread (a hand-written sampler runs with sample() on this thread only)`);
  }
  return plain(sampler.spec, `describeSampler(${sampler.name})`);
}

/** An x0 processor built by `clip` or `dynamicThreshold` as plain data; any other function throws. */
export function describeX0Processor(processor: X0Processor): FactorySpec {
  if (!processor.spec || !Object.hasOwn(PROCESSORS, processor.spec.factory)) {
    throw new Error(`describeX0Processor: the x0 processor was not built by ${Object.keys(PROCESSORS).join(' or ')}, so it cannot be described as data`);
  }
  return { factory: processor.spec.factory, options: processor.spec.options };
}

/** The sampler `describeSampler` described. */
export function samplerFromSpec(spec: FactorySpec): Sampler {
  if (!spec || typeof spec.factory !== 'string' || !Object.hasOwn(SAMPLERS, spec.factory)) {
    throw new Error(`samplerFromSpec: factory must be one of ${Object.keys(SAMPLERS).join(', ')}; got ${JSON.stringify(spec?.factory)}`);
  }
  const options = { ...(spec.options as Record<string, unknown>) };
  if (options.x0Processor !== undefined) options.x0Processor = x0ProcessorFromSpec(options.x0Processor as FactorySpec);
  return callWithUncheckedOptions(SAMPLERS[spec.factory]!, options);
}

/** The x0 processor `describeX0Processor` described. */
export function x0ProcessorFromSpec(spec: FactorySpec): X0Processor {
  if (!spec || typeof spec.factory !== 'string' || !Object.hasOwn(PROCESSORS, spec.factory)) {
    throw new Error(`x0ProcessorFromSpec: factory must be one of ${Object.keys(PROCESSORS).join(', ')}; got ${JSON.stringify(spec?.factory)}`);
  }
  return callWithUncheckedOptions(PROCESSORS[spec.factory]!, spec.options);
}
