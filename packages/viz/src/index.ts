export { gridLayout, imageGrid, type ImageGridOptions, type RgbaImage } from './grid.js';
export { linePlotSvg, type PlotOptions, scatterPlotSvg, type Series } from './plot.js';
export { formatTick, logTicks, niceTicks } from './ticks.js';
export { escapeXml } from './xml.js';
