/**
 * What a training run tells the outside while it runs (its steps, evaluations, projections,
 * checkpoints) and how it ended: plain data, so the engine can forward it to the page as is.
 */
import type { Evaluation } from './evaluator';
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
