import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';

const require = createRequire(import.meta.url);
let fontFiles: string[] | undefined;

function fonts(): string[] {
  // DejaVu from npm: the same glyphs on every machine, no system fonts needed.
  fontFiles ??= ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));
  return fontFiles;
}

/** Rasterizes an SVG document to PNG bytes with resvg and the bundled DejaVu fonts. */
export function renderSvg(svg: string): Buffer {
  const r = new Resvg(svg, { font: { fontFiles: fonts(), loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' } });
  return Buffer.from(r.render().asPng());
}
