import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Comparison } from '../../state/runHistory';
import { LOSS_ACCURACY_SCALES, themeColors, themedAxis } from '../chartTheme';

const HEIGHT = 260;

function options(width: number, comparison: Comparison): uPlot.Options {
  const theme = themeColors();
  // Run a in the smoothed-loss colour, run b in the validation colour.
  const c = { ...theme, a: theme.smoothed, b: theme.validation };
  const [a, b] = comparison.runs;
  const axis = (extra: Partial<uPlot.Axis>) => themedAxis(c, extra);
  return {
    width,
    height: HEIGHT,
    scales: LOSS_ACCURACY_SCALES,
    axes: [
      axis({ label: 'step' }),
      axis({ scale: 'loss', label: 'loss (smoothed)' }),
      axis({ scale: 'accuracy', side: 1, label: 'validation accuracy', grid: { show: false } }),
    ],
    series: [
      { label: 'step' },
      { label: `loss: ${a.name}`, scale: 'loss', stroke: c.a, width: 2, spanGaps: true, points: { show: false } },
      { label: `loss: ${b.name}`, scale: 'loss', stroke: c.b, width: 2, spanGaps: true, points: { show: false } },
      { label: `accuracy: ${a.name}`, scale: 'accuracy', stroke: c.a, width: 1.5, dash: [6, 4], spanGaps: true, points: { show: true, size: 6, fill: c.a } },
      { label: `accuracy: ${b.name}`, scale: 'accuracy', stroke: c.b, width: 1.5, dash: [6, 4], spanGaps: true, points: { show: true, size: 6, fill: c.b } },
    ],
    legend: { live: true },
  };
}

/**
 * Two stored runs on one chart: each one's smoothed training loss (solid) and validation
 * accuracy (dashed, right axis) by step. Static data: redrawn when the comparison changes.
 */
export function CompareChart({ comparison }: { comparison: Comparison }) {
  const holder = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = holder.current!;
    let plot: uPlot | null = null;
    const create = () => {
      plot?.destroy();
      plot = new uPlot(options(Math.max(200, el.clientWidth), comparison), comparison.data as uPlot.AlignedData, el);
    };
    create();
    const [steps, lossA, lossB] = comparison.data;
    el.dataset.points = String(steps.length);
    el.dataset.pointsA = String(lossA.filter((v) => v !== null).length);
    el.dataset.pointsB = String(lossB.filter((v) => v !== null).length);
    const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', create);
    return () => {
      resize.disconnect();
      scheme.removeEventListener('change', create);
      plot?.destroy();
    };
  }, [comparison]);

  const [a, b] = comparison.runs;
  return (
    <figure className="loss-chart">
      <div ref={holder} className="chart-holder" data-testid="compare-chart" data-runs={`${a.id} ${b.id}`} role="img"
        aria-label={`Smoothed training loss and validation accuracy by step of ${a.name} and ${b.name}.`} />
    </figure>
  );
}
