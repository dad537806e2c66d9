/**
 * What a training run tells the outside while it runs (its steps, evaluations, projections,
 * checkpoints) and how it ended: plain data, so the engine can forward it to the page as is.
 */
import type { Evaluation, EvaluationProgress } from './evaluator';
import type { OptimizerState } from './optimizers';
import type { ProjectionEvent } from './projection';

export interface StepEvent {
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
  stepMs: number;
  elapsedMs: number;
  etaMs: number;
}

/** How far the step under way has got (reported where ops compute as they are issued: stepProgress.ts). */
export interface StepProgress {
  /** The step under way, 1-based. */
  step: number;
  /** Of the step's work, in [0, 1]. */
  fraction: number;
  pass: 'forward' | 'backward';
  /** Layers done in this pass, of `layers`. */
  layer: number;
  layers: number;
  /** The micro-batch under way (0-based) of the step's `microBatches` (gradient accumulation). */
  microBatch: number;
  microBatches: number;
  /** Since the step began. */
  elapsedMs: number;
}

export interface RunSnapshot {
  step: number;
  variables: { shape: number[]; data: Float32Array }[];
  optimizer: OptimizerState;
  samplerRngState: number;
  samplerEpochStartState: number;
  samplerCursor: number;
  bestStep: number | null;
}

export interface TrainerEvents {
  onStep?(e: StepEvent): void;
  /** Within a step, as its layers are done (wasm and cpu only). */
  onStepProgress?(p: StepProgress): void;
  /** Within the evaluation of step `step`'s prompt, as its batches are scored. */
  onEvaluationProgress?(step: number, p: EvaluationProgress): void;
  onEvaluation?(e: Evaluation): void;
  onProjection?(e: ProjectionEvent): void;
  onCheckpoint?(s: RunSnapshot): void | Promise<void>;
  onLog?(message: string): void;
}

export interface RunSummary {
  stoppedBy: 'completed' | 'user' | 'early-stopping' | 'non-finite-loss';
  step: number;
  bestStep: number | null;
  message: string;
}
