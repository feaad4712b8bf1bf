// Node-only parts: PNG encoding (pngjs), SVG rasterizing (resvg) and files.
export { encodePng, imageGridPng, type ImageGridPngOptions } from './gridPng.js';
export { linePlotPng, scatterPlotPng } from './plotPng.js';
export { writePng } from './write.js';
export { renderSvg } from './svg.js';
