import { lineSvg, scatterSvg, type PlotOptions } from './plot.js';
import { renderSvg } from './svg.js';

/** A line plot with axes, ticks, labels, title and legend, as PNG bytes. */
export function linePlotPng(o: PlotOptions): Buffer {
  return renderSvg(lineSvg(o, 'linePlotPng'));
}

/** A scatter plot (for 2-D samples), as PNG bytes. */
export function scatterPlotPng(o: PlotOptions & { radius?: number }): Buffer {
  return renderSvg(scatterSvg(o, 'scatterPlotPng'));
}
