import type { WasmThreading } from '../../src/engine/backend';
import type { StepShape } from '../flops';
import type { StepMeasurement } from '../step';

/** 'simd': the single-threaded SIMD build; 'threaded': the threaded build on `threads` (default: every core). */
export interface ThreadsRequest {
  build: 'simd' | 'threaded';
  threads?: number;
  shapes: StepShape[];
  steps: number;
  /** Also a larger synthetic model (bench/synthetic.ts), where the matmuls dominate the step. */
  synthetic: boolean;
}

export interface ThreadsStep {
  model: string;
  parameters: number;
  step: StepMeasurement;
}

export type ThreadsMessage =
  | { kind: 'log'; text: string }
  | { kind: 'done'; wasm: WasmThreading | null; matmulFlopsPerSecond: number; steps: ThreadsStep[] }
  | { kind: 'error'; text: string };
