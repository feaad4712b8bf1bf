export * from './grid.js';
export * from './plot.js';
export * from './ticks.js';
export * from './write.js';
export { renderSvg } from './svg.js';
