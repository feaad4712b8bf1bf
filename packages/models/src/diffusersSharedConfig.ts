// What diffusers' UNet2DModel and UNet2DConditionModel configs share: the same keys, the same checks,
// the same fields of our UNet config. Both readers take them from here.
import { checkPrediction, type Prediction } from '@tfjs-diffusion/schedules';
import type { UNetConfig } from './config.js';

export type Refuse = (key: string, value: unknown, accepted: string) => never;

type SharedFields = Pick<UNetConfig,
  'sampleSize' | 'inChannels' | 'outChannels' | 'blockOutChannels' | 'normEps' | 'dropout' | 'numClasses' | 'timeFeatureDim'
  | 'embedDim' | 'predictionType' | 'flipSinToCos' | 'freqShift' | 'downsamplePadding' | 'resnetTimeScaleShift' | 'centerInputSample'>;

const posInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0;

/**
 * Checks the keys both configs share (`c` with its class's defaults filled in, `ch` its checked
 * block_out_channels) and gives our config's fields for them.
 */
export function sharedUNetFields(c: Record<string, unknown>, ch: number[], opts: { predictionType?: Prediction }, where: string, refuse: Refuse): SharedFields {
  const size = c.sample_size;
  if (!(posInt(size) || (Array.isArray(size) && size.length === 2 && size.every(posInt)))) {
    refuse('sample_size', size, 'a positive integer or [height, width] (the image size the model was trained on)');
  }
  const numClassEmbeds = c.num_class_embeds;
  if (numClassEmbeds !== null && !(Number.isInteger(numClassEmbeds) && (numClassEmbeds as number) >= 2)) refuse('num_class_embeds', numClassEmbeds, 'null or an integer ≥ 2');
  const timeDim = c.time_embedding_dim;
  if (timeDim !== null && !posInt(timeDim)) refuse('time_embedding_dim', timeDim, 'null or a positive integer');
  if (typeof c.freq_shift !== 'number' || !Number.isFinite(c.freq_shift) || c.freq_shift >= ch[0]! / 2) {
    refuse('freq_shift', c.freq_shift, `a number below block_out_channels[0] / 2 = ${ch[0]! / 2}`);
  }
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1)) refuse('dropout', c.dropout, 'a number in [0, 1)');
  if (typeof c.norm_eps !== 'number' || !(c.norm_eps > 0)) refuse('norm_eps', c.norm_eps, 'a positive number');
  for (const key of ['in_channels', 'out_channels']) if (!posInt(c[key])) refuse(key, c[key], 'a positive integer');
  if (ch[0]! % 2 !== 0) refuse('block_out_channels', ch, 'an even first entry (the sinusoidal time features have block_out_channels[0] entries)');
  return {
    sampleSize: Array.isArray(size) ? [size[0] as number, size[1] as number] : (size as number),
    inChannels: c.in_channels as number,
    outChannels: c.out_channels as number,
    blockOutChannels: ch.slice(),
    normEps: c.norm_eps,
    dropout: c.dropout,
    numClasses: numClassEmbeds === null ? null : (numClassEmbeds as number) - 1,
    timeFeatureDim: ch[0]!,
    embedDim: (timeDim as number | null) ?? 4 * ch[0]!,
    predictionType: checkPrediction(opts.predictionType ?? 'epsilon', `${where}: predictionType`),
    flipSinToCos: c.flip_sin_to_cos as boolean,
    freqShift: c.freq_shift,
    downsamplePadding: c.downsample_padding as 0 | 1,
    resnetTimeScaleShift: c.resnet_time_scale_shift as 'default' | 'scale_shift',
    centerInputSample: c.center_input_sample as boolean,
  };
}
