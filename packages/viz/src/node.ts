// Node-only parts: PNG encoding (pngjs), SVG rasterizing (resvg) and files.
export * from './gridPng.js';
export * from './plotPng.js';
export * from './write.js';
export { renderSvg } from './svg.js';
