/**
 * What a run will take on a CPU backend, estimated before its first step: its steps and its
 * evaluations, each from its FLOPs and the backend's measured matmul rate (model/flops.ts).
 * Pure arithmetic over the settings: the page and the CLI both say it.
 */
import { estimateCpuEvaluationMs, estimateCpuRunStepMs, type FlopsDims } from '../model/flops';
import { evaluationStepCount, isEvaluationStep, type TrainConfig } from './config';

/**
 * Beside the run's own evaluations: the zero-shot and text-prompt baselines, and the discrete
 * projection's at the end — which prefix tuning without its projection does not have (its
 * prefixes are keys and values, not vectors in the embedding space: methods/prefix.ts).
 */
function extraEvaluations(config: Pick<TrainConfig, 'method' | 'prefixProjection'>): number {
  return config.method === 'prefix' && !config.prefixProjection ? 2 : 3;
}

export interface RunEstimate {
  stepMs: number;
  /** One evaluation of the validation examples a run scores. */
  evaluationMs: number;
  /** The run's evaluations, baselines and discrete projection included. */
  evaluations: number;
  /** Validation examples each evaluation scores (the dataset's, else the setting's). */
  examples: number;
}

export function estimateCpuRun(dims: FlopsDims, matmulFlopsPerSecond: number, config: TrainConfig, validationCount: number | null): RunEstimate {
  const limit = config.maxEvalExamples;
  const examples = validationCount === null ? limit : limit > 0 ? Math.min(limit, validationCount) : validationCount;
  return {
    stepMs: estimateCpuRunStepMs(dims, config, matmulFlopsPerSecond),
    evaluationMs: estimateCpuEvaluationMs(dims, config, examples, matmulFlopsPerSecond),
    evaluations: evaluationStepCount(config) + extraEvaluations(config),
    examples,
  };
}

/** The first step that evaluates at these settings: where the first accuracy comes. */
export function firstEvaluationStep(cfg: Pick<TrainConfig, 'evalEvery' | 'steps'>): number {
  for (let step = 1; step < cfg.steps; step++) if (isEvaluationStep(step, cfg)) return step;
  return cfg.steps;
}
