/**
 * What a run will take on a CPU backend, estimated before its first step: its steps and its
 * evaluations, each from its FLOPs and the backend's measured matmul rate (model/flops.ts).
 * Pure arithmetic over the settings: the page and the CLI both say it.
 */
import { ESTIMATE_TARGETS, estimateCpuEvaluationMs, estimateCpuRunStepMs, type FlopsDims } from '../model/flops';
import { evaluationStepCount, isEvaluationStep, type TrainConfig } from './config';
import { batchWidths, expectedOver, meanTrainingWidth, type TokenLengths } from './tokenLengths';

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
  /**
   * A training batch's mean width in tokens, text and label, padding included, from the
   * data's token lengths; null without them (every batch counted as long as the max length).
   */
  meanBatchWidth: number | null;
}

/**
 * With the data's token lengths, each step and evaluation is the mean over how wide its
 * batches come out (tokenLengths.ts); without them, as long as the max length. `recompute`:
 * the MLP pre-activations each step makes again, as the run's memory plan decides (its
 * preview, where the page has one).
 */
export function estimateCpuRun(
  dims: FlopsDims, matmulFlopsPerSecond: number, config: TrainConfig, validationCount: number | null, lengths: TokenLengths | null = null,
  recompute = 0,
): RunEstimate {
  const limit = config.maxEvalExamples;
  const examples = validationCount === null ? limit : limit > 0 ? Math.min(limit, validationCount) : validationCount;
  const evaluations = evaluationStepCount(config) + extraEvaluations(config);
  if (!lengths || lengths.train.length === 0) {
    return {
      stepMs: estimateCpuRunStepMs(dims, config, matmulFlopsPerSecond, undefined, recompute),
      evaluationMs: estimateCpuEvaluationMs(dims, config, examples, matmulFlopsPerSecond),
      evaluations, examples, meanBatchWidth: null,
    };
  }
  const training = batchWidths(lengths.train, config.batchSize, config.maxLength, ESTIMATE_TARGETS);
  const scored = batchWidths(lengths.validation.length ? lengths.validation : lengths.train, Math.min(config.evalBatchSize, Math.max(1, examples)), config.maxLength, 0);
  return {
    stepMs: expectedOver(training, (width) => estimateCpuRunStepMs(dims, config, matmulFlopsPerSecond, width, recompute)),
    evaluationMs: expectedOver(scored, (width) => estimateCpuEvaluationMs(dims, config, examples, matmulFlopsPerSecond, width)),
    evaluations, examples,
    meanBatchWidth: meanTrainingWidth(lengths, config.batchSize, config.maxLength, ESTIMATE_TARGETS),
  };
}

/** A step measured at some settings. */
export interface MeasuredStep {
  msPerStep: number;
  /** Examples a step: the batch times its gradient accumulation. */
  batchSize: number;
  microBatchSize: number;
  maxLength: number;
  numVirtualTokens: number;
}

/**
 * A measured step's time carried to other settings, roughly: work grows with the examples a
 * step takes times a batch's width, virtual tokens included — as wide as its longest text
 * (from the data's lengths), or the max length without them.
 */
export function scaledStepMs(
  measured: MeasuredStep, config: Pick<TrainConfig, 'batchSize' | 'gradientAccumulation' | 'maxLength' | 'numVirtualTokens'>, lengths: TokenLengths | null,
): number {
  const work = (examples: number, micro: number, maxLength: number, virtual: number) =>
    examples * (meanTrainingWidth(lengths, micro, maxLength, ESTIMATE_TARGETS) + virtual);
  return measured.msPerStep * work(config.batchSize * config.gradientAccumulation, config.batchSize, config.maxLength, config.numVirtualTokens)
    / work(measured.batchSize, measured.microBatchSize, measured.maxLength, measured.numVirtualTokens);
}

/** The first step that evaluates at these settings: where the first accuracy comes. */
export function firstEvaluationStep(cfg: Pick<TrainConfig, 'evalEvery' | 'steps'>): number {
  for (let step = 1; step < cfg.steps; step++) if (isEvaluationStep(step, cfg)) return step;
  return cfg.steps;
}
