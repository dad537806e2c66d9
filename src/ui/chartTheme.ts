import type uPlot from 'uplot';

/** Colours come from the theme's CSS variables; the canvas needs them as values. */
export function themeColors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    text: v('--muted'), grid: v('--grid'), loss: v('--chart-loss'), smoothed: v('--chart-smoothed'),
    validation: v('--chart-validation'), accuracy: v('--chart-accuracy'), baseline: v('--chart-baseline'),
  };
}

/** An axis in the theme's text and grid colours. */
export function themedAxis(c: ReturnType<typeof themeColors>, extra: Partial<uPlot.Axis>): uPlot.Axis {
  return { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 }, ...extra };
}

/** Step on x; loss on the left axis, accuracy (0-1) on the right: the scales both loss charts use. */
export const LOSS_ACCURACY_SCALES: uPlot.Scales = { x: { time: false }, loss: { auto: true }, accuracy: { auto: false, range: [0, 1] } };
