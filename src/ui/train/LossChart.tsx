import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { LOSS_ACCURACY_SCALES, themeColors, themedAxis } from '../chartTheme';
import { trainingSeries as liveSeries, type TrainingSeries } from '../../state/trainingSeries';

const HEIGHT = 280;
const STEP_INCREMENTS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1000, 10_000, 100_000].map((p) => m * p)).sort((a, b) => a - b);

function chartOptions(width: number): uPlot.Options {
  const c = themeColors();
  const axis = (extra: Partial<uPlot.Axis>) => themedAxis(c, extra);
  return {
    width,
    height: HEIGHT,
    // The page's own live region reports progress; the chart itself is a picture of it.
    scales: LOSS_ACCURACY_SCALES,
    axes: [
      // Steps are whole numbers: ticks never fall between two.
      axis({ label: 'step', incrs: STEP_INCREMENTS }),
      axis({ scale: 'loss', label: 'loss' }),
      axis({ scale: 'accuracy', side: 1, label: 'accuracy', grid: { show: false } }),
    ],
    series: [
      { label: 'step' },
      { label: 'training loss', scale: 'loss', stroke: c.loss, width: 1.25, points: { show: false } },
      { label: 'smoothed', scale: 'loss', stroke: c.smoothed, width: 2, points: { show: false } },
      { label: 'validation loss', scale: 'loss', stroke: c.validation, width: 2, spanGaps: true, points: { show: true, size: 6, fill: c.validation } },
      { label: 'validation accuracy', scale: 'accuracy', stroke: c.accuracy, width: 2, spanGaps: true, points: { show: true, size: 6, fill: c.accuracy } },
      { label: 'zero-shot accuracy', scale: 'accuracy', stroke: c.baseline, width: 1.5, dash: [6, 4], points: { show: false } },
    ],
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    // Away from the cursor, the legend shows each curve's latest value (uPlot's own shows "--").
    hooks: { setCursor: [(u) => { if (u.cursor.idx == null) showLatest(u); }] },
  };
}

/** Each series' last point that has a value (validation points are sparse). */
function latestIndexes(data: uPlot.AlignedData): (number | null)[] {
  return data.map((values) => {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return i;
    return null;
  });
}

function showLatest(u: uPlot): void {
  if (u.data[0].length > 0) u.setLegend({ idxs: latestIndexes(u.data) }, false);
}

/**
 * The live training chart. Not a React-driven component: it is created once, fed straight
 * from trainingSeries (at most once per animation frame) and only resized or recoloured
 * by React. Its figures are mirrored into data-* attributes for tests to read.
 */
export function LossChart({ series: trainingSeries = liveSeries, testId = 'loss-chart', label }: {
  /** The curves to draw: the live run's by default, or a stored run's (read-only). */
  series?: TrainingSeries;
  testId?: string;
  label?: string;
} = {}) {
  const holder = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = holder.current!;
    let plot: uPlot | null = null;
    let drawnVersion = -1;

    const mirror = () => {
      const [steps, loss, smoothed, validationLoss] = trainingSeries.chartData();
      const n = steps.length;
      el.dataset.points = String(n);
      el.dataset.firstLoss = n ? String(loss[0]) : '';
      el.dataset.lastLoss = n ? String(loss[n - 1]) : '';
      el.dataset.lastSmoothed = n ? String(smoothed[n - 1]) : '';
      el.dataset.lastStep = n ? String(steps[n - 1]) : '';
      el.dataset.evaluations = String(validationLoss.filter((v) => v !== null).length);
      el.dataset.draws = String(Number(el.dataset.draws ?? 0) + 1);
    };
    const draw = () => {
      if (!plot || drawnVersion === trainingSeries.version) return;
      drawnVersion = trainingSeries.version;
      plot.setData(trainingSeries.chartData() as uPlot.AlignedData);
      if (plot.cursor.idx == null) showLatest(plot);
      mirror();
    };
    const create = () => {
      plot?.destroy();
      plot = new uPlot(chartOptions(Math.max(200, el.clientWidth)), trainingSeries.chartData() as uPlot.AlignedData, el);
      showLatest(plot);
      drawnVersion = trainingSeries.version;
      mirror();
    };

    create();
    const unsubscribe = trainingSeries.subscribe(draw);
    const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    // A theme switch changes the CSS variables; the canvas is redrawn with the new colours.
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', create);
    return () => {
      unsubscribe();
      resize.disconnect();
      scheme.removeEventListener('change', create);
      plot?.destroy();
    };
  }, [trainingSeries]);

  return (
    <figure className="loss-chart">
      <div ref={holder} className="chart-holder" data-testid={testId} role="img"
        aria-label={label ?? 'Training loss, smoothed loss and validation loss by step; validation accuracy and the zero-shot accuracy on the right axis.'} />
    </figure>
  );
}
