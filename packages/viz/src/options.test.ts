import { describe, expect, it } from 'vitest';
import { gridLayout, imageGrid, linePlotSvg, scatterPlotSvg } from './index.js';
import { imageGridPng, linePlotPng, scatterPlotPng } from './node.js';

describe('viz refuses unknown options', () => {
  const grid = { n: 1, height: 1, width: 1, channels: 1 as const };
  const plot = { series: [{ name: 'a', x: [0, 1], y: [1, 2] }] };
  const cases: [string, () => unknown][] = [
    ['gridLayout', () => gridLayout({ ...grid, bogus: 1 } as never)],
    ['imageGrid', () => imageGrid([0], { ...grid, bogus: 1 } as never)],
    ['imageGridPng', () => imageGridPng([0], { ...grid, bogus: 1 } as never)],
    ['linePlotSvg', () => linePlotSvg({ ...plot, bogus: 1 } as never)],
    ['scatterPlotSvg', () => scatterPlotSvg({ ...plot, bogus: 1 } as never)],
    ['linePlotPng', () => linePlotPng({ ...plot, bogus: 1 } as never)],
    ['scatterPlotPng', () => scatterPlotPng({ ...plot, bogus: 1 } as never)],
  ];
  it.each(cases)('%s', (name, call) => {
    expect(call).toThrow(`${name}: unknown option 'bogus'. Accepted: `);
  });

  it('checks each series and names the nearest option', () => {
    expect(() => linePlotSvg({ series: [{ name: 'a', x: [0], y: [1], colour: 'red' }] } as never)).toThrow(
      "linePlotSvg: unknown option 'series[0].colour'; did you mean 'series[0].color'? Accepted in series[0]: 'name', 'x', 'y', 'color'",
    );
    expect(() => linePlotSvg({ ...plot, log_y: true } as never)).toThrow("did you mean 'logY'?");
    expect(() => imageGrid([0], { ...grid, nrow: 1 } as never)).toThrow("imageGrid: unknown option 'nrow'");
  });

  it('gridLayout takes a grid\'s whole options; imageGridPng still draws its row labels', () => {
    const whole: Parameters<typeof imageGrid>[1] = { ...grid, range: [0, 1], background: 0 };
    expect(gridLayout(whole).cols).toBe(1);
    const png = imageGridPng([0, 1], { n: 2, height: 1, width: 1, channels: 1, cols: 1, rowLabels: ['a', 'b'] });
    expect(png.length).toBeGreaterThan(0);
    expect(() => imageGridPng([0, 1], { n: 2, height: 1, width: 1, channels: 1, cols: 1, rowLabels: ['a'] })).toThrow('rowLabels has 1 labels for 2 rows');
  });
});
