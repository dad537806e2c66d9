/**
 * Pure helpers over a stored run's history: its curves rebuilt as a TrainingSeries, its
 * headline metrics, two runs' curves on one step axis, and the JSON export. No IndexedDB,
 * no React: the history slice feeds them what the run store returned.
 */
import type { StoredEvent, StoredRun } from '../storage/runStore';
import type { StepEvent } from '../tuning/trainer';
import type { EvaluationSummary, PromptVariant } from '../engine/api';
import { TrainingSeries } from './trainingSeries';

type EvaluationData = { variant: PromptVariant; evaluation: EvaluationSummary; prompt?: string };

export interface RunMetrics {
  steps: number;
  lastLoss: number | null;
  lastEvaluation: EvaluationSummary | null;
  bestAccuracy: number | null;
  zeroShot: EvaluationSummary | null;
  textBaseline: EvaluationSummary | null;
  discrete: EvaluationSummary | null;
  evaluations: number;
}

/** The run's curves, as the live chart draws them (later repeats of a step replace the earlier ones). */
export function seriesOf(events: StoredEvent[]): TrainingSeries {
  const series = new TrainingSeries();
  for (const e of events) {
    if (e.kind === 'step') {
      const step = e.data as StepEvent;
      series.addStep(step.step, step.loss);
    } else if (e.kind === 'evaluation') {
      const { variant, evaluation } = e.data as EvaluationData;
      if (variant === 'soft') series.addEvaluation(evaluation.step, evaluation.loss, evaluation.report.accuracy);
    } else if (e.kind === 'baseline') {
      const { variant, evaluation } = e.data as EvaluationData;
      if (variant === 'zero-shot') series.setZeroShotAccuracy(evaluation.report.accuracy);
    }
  }
  return series;
}

export function metricsOf(events: StoredEvent[]): RunMetrics {
  const m: RunMetrics = {
    steps: 0, lastLoss: null, lastEvaluation: null, bestAccuracy: null, zeroShot: null, textBaseline: null, discrete: null, evaluations: 0,
  };
  for (const e of events) {
    if (e.kind === 'step') {
      const step = e.data as StepEvent;
      m.steps = step.step;
      m.lastLoss = step.loss;
    } else if (e.kind === 'evaluation' || e.kind === 'baseline') {
      const { variant, evaluation } = e.data as EvaluationData;
      if (variant === 'soft') {
        m.lastEvaluation = evaluation;
        m.evaluations++;
        m.bestAccuracy = m.bestAccuracy === null ? evaluation.report.accuracy : Math.max(m.bestAccuracy, evaluation.report.accuracy);
      } else if (variant === 'zero-shot') m.zeroShot = evaluation;
      else if (variant === 'text') m.textBaseline = evaluation;
      else if (variant === 'discrete') m.discrete = evaluation;
    }
  }
  return m;
}

/** Two (or more) runs' curves on one step axis: [steps, ...each run's values], null where a run has no point. */
export function alignCurves(curves: { steps: ArrayLike<number>; values: ArrayLike<number | null> }[]): (number | null)[][] {
  const steps = [...new Set(curves.flatMap((c) => Array.from(c.steps)))].sort((a, b) => a - b);
  const index = new Map(steps.map((s, i) => [s, i]));
  const columns = curves.map((c) => {
    const out: (number | null)[] = new Array(steps.length).fill(null);
    for (let i = 0; i < c.steps.length; i++) {
      const v = c.values[i];
      if (v !== null && v !== undefined && Number.isFinite(v)) out[index.get(c.steps[i])!] = v;
    }
    return out;
  });
  return [steps, ...columns];
}

export interface Comparison {
  runs: [StoredRun, StoredRun];
  /** [steps, smoothed loss A, smoothed loss B, validation accuracy A, validation accuracy B]. */
  data: (number | null)[][];
}

export function compareRuns(a: { run: StoredRun; events: StoredEvent[] }, b: { run: StoredRun; events: StoredEvent[] }): Comparison {
  const curves = [a, b].map(({ events }) => {
    const [steps, , smoothed, , accuracy] = seriesOf(events).chartData();
    return { steps: Array.from(steps), smoothed: Array.from(smoothed), accuracy };
  });
  const data = alignCurves([
    { steps: curves[0].steps, values: curves[0].smoothed },
    { steps: curves[1].steps, values: curves[1].smoothed },
    { steps: curves[0].steps, values: curves[0].accuracy },
    { steps: curves[1].steps, values: curves[1].accuracy },
  ]);
  return { runs: [a.run, b.run], data };
}

/** The exported run: its record and its whole history, as one JSON document. */
export function runExport(run: StoredRun, events: StoredEvent[], checkpointStep: number | null, exportedAt = new Date()): string {
  return JSON.stringify({
    format: 'prompt-tuning-studio-run',
    version: 1,
    exportedAt: exportedAt.toISOString(),
    run,
    checkpointStep,
    events: events.map(({ seq, kind, step, data }) => ({ seq, kind, step, data })),
  }, null, 1);
}

/** A name usable as a file name. */
export function fileSafe(name: string): string {
  return name.trim().replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80) || 'run';
}
