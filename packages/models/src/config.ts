export type Prediction = 'epsilon' | 'v' | 'sample';

/** U-Net options, diffusers' UNet2DModel names camelCased where they exist. */
export interface UNetConfig {
  kind: 'unet';
  /** Height and width of the training images (square when a number). */
  sampleSize: number | [number, number];
  inChannels: number;
  outChannels: number;
  /** Channels per resolution level; level l works at sampleSize / 2^l. */
  blockOutChannels: number[];
  /** Residual blocks per level on the way down (the way up has one more, for the extra skip). */
  layersPerBlock: number;
  /** Side lengths (in pixels) of the levels that get self-attention after each residual block, e.g. [7]. */
  attentionResolutions: number[];
  /** Self-attention in the middle block (res → attn → res). */
  midBlockAttention: boolean;
  /** Attention heads; each level's channels must divide evenly. */
  attentionHeads: number;
  normNumGroups: number;
  normEps: number;
  /** Dropout rate inside residual blocks, used only when training. */
  dropout: number;
  /** Real classes for class conditioning (the embedding has one more row: the null class, index numClasses). null: unconditional. */
  numClasses: number | null;
  /** Size of the sinusoidal timestep features (diffusers: blockOutChannels[0]). */
  timeFeatureDim: number;
  /** Width of the time/class embedding MLP (diffusers: 4 × blockOutChannels[0]). */
  embedDim: number;
  predictionType: Prediction;
  /** false: the network never sees t (the noise-unconditioned variant). */
  timeConditioning: boolean;
}

export type UNetOptions = Partial<Omit<UNetConfig, 'kind'>> & { kind?: 'unet'; numClassEmbeds?: number | null };

const PREDICTIONS: readonly Prediction[] = ['epsilon', 'v', 'sample'];

export function checkPrediction(p: unknown, where: string): Prediction {
  if (!PREDICTIONS.includes(p as Prediction)) {
    throw new Error(`${where}: predictionType must be one of 'epsilon', 'v', 'sample'; got ${JSON.stringify(p)}`);
  }
  return p as Prediction;
}

function positiveInt(v: unknown, name: string): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`UNet: ${name} must be a positive integer; got ${JSON.stringify(v)}`);
  return v as number;
}

/** Fills defaults and checks every option; the result is what config.json stores. */
export function resolveUNetConfig(options: UNetOptions): UNetConfig {
  if (options.kind !== undefined && options.kind !== 'unet') throw new Error(`UNet: kind must be 'unet'; got ${JSON.stringify(options.kind)}`);
  const blockOutChannels = options.blockOutChannels ?? [32, 64, 64];
  if (!Array.isArray(blockOutChannels) || blockOutChannels.length === 0) {
    throw new RangeError('UNet: blockOutChannels must be a non-empty array of channel counts');
  }
  blockOutChannels.forEach((c, i) => positiveInt(c, `blockOutChannels[${i}]`));
  const c0 = blockOutChannels[0]!;
  const numClasses = options.numClasses !== undefined ? options.numClasses
    : options.numClassEmbeds !== undefined && options.numClassEmbeds !== null ? options.numClassEmbeds - 1 : null;
  const cfg: UNetConfig = {
    kind: 'unet',
    sampleSize: options.sampleSize ?? 28,
    inChannels: positiveInt(options.inChannels ?? 1, 'inChannels'),
    outChannels: positiveInt(options.outChannels ?? options.inChannels ?? 1, 'outChannels'),
    blockOutChannels: blockOutChannels.slice(),
    layersPerBlock: positiveInt(options.layersPerBlock ?? 2, 'layersPerBlock'),
    attentionResolutions: (options.attentionResolutions ?? []).slice(),
    midBlockAttention: options.midBlockAttention ?? true,
    attentionHeads: positiveInt(options.attentionHeads ?? 1, 'attentionHeads'),
    normNumGroups: positiveInt(options.normNumGroups ?? 8, 'normNumGroups'),
    normEps: options.normEps ?? 1e-5,
    dropout: options.dropout ?? 0,
    numClasses,
    timeFeatureDim: positiveInt(options.timeFeatureDim ?? c0, 'timeFeatureDim'),
    embedDim: positiveInt(options.embedDim ?? 4 * c0, 'embedDim'),
    predictionType: checkPrediction(options.predictionType ?? 'epsilon', 'UNet'),
    timeConditioning: options.timeConditioning ?? true,
  };
  const [h, w] = sampleHW(cfg.sampleSize);
  const levels = cfg.blockOutChannels.length;
  const div = 2 ** (levels - 1);
  if (h % div !== 0 || w % div !== 0) {
    throw new RangeError(
      `UNet: sampleSize ${h}×${w} cannot be halved ${levels - 1} times (blockOutChannels has ${levels} levels); ` +
        `height and width must be multiples of ${div}`,
    );
  }
  for (const c of [...cfg.blockOutChannels]) {
    if (c % cfg.normNumGroups !== 0) throw new RangeError(`UNet: channel count ${c} is not divisible by normNumGroups ${cfg.normNumGroups}`);
    if (c % cfg.attentionHeads !== 0) throw new RangeError(`UNet: channel count ${c} is not divisible by attentionHeads ${cfg.attentionHeads}`);
  }
  if (cfg.timeFeatureDim % 2 !== 0) throw new RangeError(`UNet: timeFeatureDim must be even; got ${cfg.timeFeatureDim}`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new RangeError(`UNet: dropout must be in [0, 1); got ${cfg.dropout}`);
  if (cfg.numClasses !== null) positiveInt(cfg.numClasses, 'numClasses');
  const sizes = cfg.blockOutChannels.map((_, l) => h / 2 ** l);
  for (const r of cfg.attentionResolutions) {
    if (!sizes.includes(r)) throw new RangeError(`UNet: attentionResolutions has ${r}; the levels' heights are ${sizes.join(', ')}`);
  }
  return cfg;
}

export function sampleHW(s: number | [number, number]): [number, number] {
  const [h, w] = typeof s === 'number' ? [s, s] : s;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) throw new RangeError(`UNet: sampleSize must be a positive integer or [height, width]; got ${JSON.stringify(s)}`);
  return [h, w];
}

export type UNetPresetName = 'mnist-ref' | 'mnist-tiny';

/**
 * `mnist-ref`: the reference network of the benchmark (1,624,577 parameters).
 * `mnist-tiny`: a small class-conditional U-Net that learns digit strokes in minutes on a CPU.
 */
export function unetPreset(name: UNetPresetName, overrides: UNetOptions = {}): UNetConfig {
  const presets: Record<UNetPresetName, UNetOptions> = {
    'mnist-ref': {
      sampleSize: 28, inChannels: 1, outChannels: 1, blockOutChannels: [32, 64, 64], layersPerBlock: 2,
      attentionResolutions: [7], midBlockAttention: true, normNumGroups: 8, dropout: 0.1, numClasses: 10,
    },
    'mnist-tiny': {
      sampleSize: 28, inChannels: 1, outChannels: 1, blockOutChannels: [8, 16, 16], layersPerBlock: 1,
      attentionResolutions: [], midBlockAttention: false, normNumGroups: 4, dropout: 0, numClasses: 10, embedDim: 64, timeFeatureDim: 32,
    },
  };
  const base = presets[name];
  if (!base) throw new Error(`unetPreset: name must be one of ${Object.keys(presets).map((k) => `'${k}'`).join(', ')}; got ${JSON.stringify(name)}`);
  return resolveUNetConfig({ ...base, ...overrides });
}
