import * as tf from '@tensorflow/tfjs';

/**
 * What a denoiser is conditioned on, one entry per batch row in every field. Each field has a null
 * value (see `ConditioningNulls`); the helpers below treat every field alike, so a new kind of
 * condition is one line of `FIELDS` and the model that reads it.
 */
// A type alias (not an interface) so a Conditioning is a tf.TensorContainer and can leave a tf.tidy.
export type Conditioning = {
  /** int32 class ids [B]; the null (unconditional) class is `numClasses`. */
  classLabels?: tf.Tensor1D;
  /** [B, L, D], diffusers' `encoder_hidden_states`: e.g. a text encoder's embeddings of each row's prompt. */
  encoderHiddenStates?: tf.Tensor3D;
  /** int32 token ids [B, L] of each row's prompt, for a model that encodes them itself (its null: the empty prompt's ids). */
  inputIds?: tf.Tensor2D;
};

export type ConditioningField = keyof Conditioning;

/**
 * The null value of each field, for one row: a number fills the row (the null class; 0 for
 * embeddings), an array gives its values (the empty prompt's [L, D] embeddings, row-major).
 * A field without a default (classLabels) must be given wherever its null value is needed.
 */
export type ConditioningNulls = { [K in ConditioningField]?: number | ArrayLike<number> };

/** A host copy of a tensor (structured-cloneable). */
export interface HostTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** A Conditioning on the host: for worker threads, checkpoints and batches built from arrays. */
export type HostConditioning = { [K in ConditioningField]?: HostTensor };

interface FieldSpec {
  rank: number;
  dtype: 'int32' | 'float32';
  /** What the shape is, for errors. */
  shape: string;
  /** The null value when none is given; undefined: it must be given. */
  defaultNull?: number;
  /** The option that supplies this field's null value, for errors. */
  nullOption: string;
}

const FIELDS: { readonly [K in ConditioningField]-?: FieldSpec } = {
  classLabels: { rank: 1, dtype: 'int32', shape: '[batch] class ids', nullOption: 'nullClass' },
  encoderHiddenStates: { rank: 3, dtype: 'float32', shape: '[batch, length, dim]', defaultNull: 0, nullOption: 'nulls.encoderHiddenStates' },
  inputIds: { rank: 2, dtype: 'int32', shape: '[batch, length] token ids', nullOption: 'nulls.inputIds' },
};

/** Every field a Conditioning can have. */
export const CONDITIONING_FIELDS = Object.keys(FIELDS) as readonly ConditioningField[];

type Fields<T> = { [K in ConditioningField]?: T };

function present<T>(c: Fields<T> | undefined): [ConditioningField, T][] {
  if (!c) return [];
  return CONDITIONING_FIELDS.filter((k) => c[k] !== undefined).map((k) => [k, c[k]!]);
}

function build<T, U>(c: Fields<T> | undefined, f: (t: T, k: ConditioningField) => U): Fields<U> {
  return Object.fromEntries(present(c).map(([k, t]) => [k, f(t, k)])) as Fields<U>;
}

/** The fields `cond` has (an empty array for none). */
export function conditioningFields(cond: Conditioning | HostConditioning | undefined): ConditioningField[] {
  return present<unknown>(cond).map(([k]) => k);
}

/** undefined for an absent or empty condition, so callers pass "no condition" one way. */
function orUndefined<T extends object>(c: T): T | undefined {
  return Object.keys(c).length > 0 ? c : undefined;
}

/**
 * Checks every field's rank and that it has `batch` rows; `reads` lists the fields the model
 * uses (others are refused, naming what the model lacks). Errors start with `where`.
 */
export function checkConditioning(
  where: string,
  cond: Conditioning | undefined,
  batch: number,
  reads: { readonly [K in ConditioningField]?: string | true } = {},
): void {
  for (const [k, t] of present<tf.Tensor>(cond)) {
    const ok = reads[k];
    if (ok !== true) throw new Error(`${where}: cond.${k} given, but ${ok ?? `the model does not read ${k}`}`);
    const f = FIELDS[k];
    if (!(t instanceof tf.Tensor)) throw new Error(`${where}: cond.${k} must be a tensor ${f.shape}; got ${typeof t}`);
    if (t.rank !== f.rank || t.shape[0] !== batch) {
      throw new Error(`${where}: cond.${k} must be a ${f.rank}-D tensor ${f.shape} with ${batch} rows (one per image); got shape [${t.shape}]`);
    }
  }
  for (const k of Object.keys(cond ?? {})) {
    if (!(k in FIELDS)) throw new Error(`${where}: cond has no field '${k}' (known: ${CONDITIONING_FIELDS.join(', ')})`);
  }
}

/** Rows of `a` then rows of `b`, field by field (guidance's doubled batch); both must have the same fields. */
export function concatConditioning(a: Conditioning, b: Conditioning): Conditioning {
  const fa = conditioningFields(a).join();
  const fb = conditioningFields(b).join();
  if (fa !== fb) throw new Error(`concatConditioning: both conditions must have the same fields; got [${fa}] and [${fb}]`);
  return tf.tidy(() => build<tf.Tensor, tf.Tensor>(a, (t, k) => tf.concat([castTo(t, k), castTo(b[k]!, k)]))) as Conditioning;
}

function castTo(t: tf.Tensor, k: ConditioningField): tf.Tensor {
  return t.dtype === FIELDS[k].dtype ? t : tf.cast(t, FIELDS[k].dtype);
}

/** Rows [start, start + size) of every field; undefined stays undefined. */
export function sliceConditioning(cond: Conditioning | undefined, start: number, size: number): Conditioning | undefined {
  return orUndefined(tf.tidy(() => build<tf.Tensor, tf.Tensor>(cond, (t) => tf.slice(t, [start], [size]))) as Conditioning);
}

/** Rows `indices` of every field (in that order). */
export function gatherConditioning(cond: Conditioning | undefined, indices: ArrayLike<number>): Conditioning | undefined {
  return orUndefined(tf.tidy(() => build<tf.Tensor, tf.Tensor>(cond, (t) => tf.gather(t, tf.tensor1d(Array.from(indices), 'int32')))) as Conditioning);
}

/** One null row of field `k` with row shape `rowShape`, on the host. */
function nullRow(k: ConditioningField, rowShape: readonly number[], nulls: ConditioningNulls): Float32Array | Int32Array {
  const f = FIELDS[k];
  const size = rowShape.reduce((a, b) => a * b, 1);
  const v = nulls[k] ?? f.defaultNull;
  if (v === undefined) throw new Error(`cond.${k}: no null value; pass ${f.nullOption}`);
  const row = f.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  if (typeof v === 'number') {
    if (f.dtype === 'int32' && !Number.isInteger(v)) throw new Error(`${f.nullOption} must be an integer; got ${v}`);
    return row.fill(v);
  }
  if (v.length !== size) throw new Error(`${f.nullOption} must have ${size} values (one row of shape [${rowShape}]); got ${v.length}`);
  row.set(v);
  return row;
}

/** `batch` rows of each field's null value, for the fields `like` has (their row shapes from `like`). */
export function nullConditioning(like: Conditioning, batch: number, nulls: ConditioningNulls): Conditioning {
  const rows = build<tf.Tensor, Float32Array | Int32Array>(like, (t, k) => nullRow(k, t.shape.slice(1), nulls));
  return tf.tidy(() =>
    build<tf.Tensor, tf.Tensor>(like, (t, k) => {
      const row = tf.tensor(rows[k]!, [1, ...t.shape.slice(1)], FIELDS[k].dtype);
      return tf.tile(row, [batch, ...t.shape.slice(1).map(() => 1)]);
    }),
  ) as Conditioning;
}

/**
 * Condition dropout on the host: the rows where `drop[i]` is true get every field's null value
 * (label dropout and diffusers' `proportion_empty_prompts` are this one operation). Returns copies.
 */
export function dropConditioning(cond: HostConditioning, drop: ArrayLike<boolean>, nulls: ConditioningNulls): HostConditioning {
  return build<HostTensor, HostTensor>(cond, (h, k) => {
    if (drop.length !== h.shape[0]) throw new Error(`dropConditioning: drop has ${drop.length} rows, cond.${k} ${h.shape[0]}`);
    const row = nullRow(k, h.shape.slice(1), nulls);
    const data = h.data.slice();
    for (let i = 0; i < drop.length; i++) if (drop[i]) data.set(row, i * row.length);
    return { data, shape: h.shape.slice() };
  });
}

/** Disposes every field's tensor. */
export function disposeConditioning(cond: Conditioning | undefined): void {
  tf.dispose(present<tf.Tensor>(cond).map(([, t]) => t));
}

/** A host copy of every field (for another thread). */
export async function conditioningToHost(cond: Conditioning | undefined): Promise<HostConditioning | undefined> {
  const entries = await Promise.all(present<tf.Tensor>(cond).map(async ([k, t]) => [k, { data: await hostData(t, k), shape: t.shape.slice() }] as const));
  return orUndefined(Object.fromEntries(entries) as HostConditioning);
}

/** `conditioningToHost`, blocking (where the caller already reads tensors synchronously). */
export function conditioningToHostSync(cond: Conditioning | undefined): HostConditioning | undefined {
  return orUndefined(build<tf.Tensor, HostTensor>(cond, (t, k) => {
    const d = t.dataSync();
    return { data: FIELDS[k].dtype === 'int32' ? Int32Array.from(d) : Float32Array.from(d), shape: t.shape.slice() };
  }) as HostConditioning);
}

async function hostData(t: tf.Tensor, k: ConditioningField): Promise<Float32Array | Int32Array> {
  const d = await t.data();
  return FIELDS[k].dtype === 'int32' ? Int32Array.from(d) : Float32Array.from(d);
}

/** Tensors of a host condition (the caller disposes them). */
export function conditioningFromHost(host: HostConditioning | undefined): Conditioning | undefined {
  return orUndefined(tf.tidy(() => build<HostTensor, tf.Tensor>(host, (h, k) => tf.tensor(h.data, h.shape, FIELDS[k].dtype))) as Conditioning);
}

/** Rows [start, end) of a host condition. */
export function sliceHostConditioning(host: HostConditioning | undefined, start: number, end: number): HostConditioning | undefined {
  return orUndefined(build<HostTensor, HostTensor>(host, (h) => {
    const per = h.shape.slice(1).reduce((a, b) => a * b, 1);
    return { data: h.data.slice(start * per, end * per), shape: [end - start, ...h.shape.slice(1)] };
  }));
}
