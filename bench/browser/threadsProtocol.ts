import type { WasmThreading } from '../../src/engine/backend';
import type { StepShape } from '../../src/model/flops';
import type { StepMeasurement } from '../step';

/** 'simd': the single-threaded SIMD build; 'threaded': the threaded build on `threads` (default: every core). */
export interface WayRequest {
  build: 'simd' | 'threaded';
  threads?: number;
}

/** The default model, or also a larger synthetic one (bench/synthetic.ts) where the matmuls dominate. */
export type ThreadsModel = 'stories260K' | 'synthetic';

export type ThreadsRequest =
  | ({ kind: 'open'; synthetic: boolean } & WayRequest)
  | { kind: 'measure'; model: ThreadsModel; shape: StepShape; steps: number };

export type ThreadsMessage =
  | { kind: 'log'; text: string }
  | { kind: 'opened'; wasm: WasmThreading | null; models: Record<string, { name: string; parameters: number }> }
  | { kind: 'measured'; step: StepMeasurement; matmulFlopsPerSecond: number }
  | { kind: 'error'; text: string };
