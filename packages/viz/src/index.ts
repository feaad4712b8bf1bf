export { gridLayout, imageGrid, type ImageGridOptions, type RgbaImage } from './grid.js';
export { linePlotSvg, scatterPlotSvg, type PlotOptions, type Series } from './plot.js';
export * from './ticks.js';
export { escapeXml } from './xml.js';
