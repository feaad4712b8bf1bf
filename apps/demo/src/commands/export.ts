import { UNet } from '@tfjs-diffusion/models';
import { initDemoBackend } from '../backendInit.js';
import { buildModel, loadWeights } from '../build.js';
import { checkExportOut, writeDiffusersFolder } from '../diffusersFolder.js';
import { openCheckpoint } from '../openCheckpoint.js';

export interface ExportCommandOptions {
  checkpoint: string;
  format: string;
  out: string;
  /** Replace an earlier export at --out (nothing else is ever replaced). */
  force?: boolean;
  /** The raw weights instead of the EMA average. */
  noEma?: boolean;
  quiet?: boolean;
}

export const EXPORT_FORMATS = ['diffusers'] as const;

/**
 * `export --format diffusers`: a run's inference weights (EMA when kept) as a
 * diffusers folder (config.json, diffusion_pytorch_model.safetensors,
 * scheduler_config.json) that `UNet2DModel.from_pretrained` and
 * `DDPMScheduler.from_pretrained` load.
 */
export async function exportCommand(o: ExportCommandOptions): Promise<{ dir: string; files: string[]; weights: string; diffusersVersion: string }> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(o.format)) throw new Error(`--format must be one of ${EXPORT_FORMATS.join(', ')}; got '${o.format}'`);
  // --out first: nothing is read for an export that could not be written.
  checkExportOut(o.out, o.force ?? false);
  await initDemoBackend(o.quiet);
  const src = await openCheckpoint(o.checkpoint);
  const model = buildModel(src.run.model, src.run.demo.seed);
  try {
    if (!(model instanceof UNet)) throw new Error(`--checkpoint ${o.checkpoint}: only U-Nets have a diffusers counterpart`);
    const w = await loadWeights(model, src.checkpoint, !o.noEma);
    const { files, config } = writeDiffusersFolder(o.out, model, src.run.demo, { force: o.force });
    const version = String(config._diffusers_version);
    if (!o.quiet) console.log(`exported the ${w.source} weights of ${w.path} to ${files.join(', ')} (loads in diffusers ${version} and later)`);
    return { dir: o.out, files, weights: w.source, diffusersVersion: version };
  } finally {
    model.dispose();
  }
}
