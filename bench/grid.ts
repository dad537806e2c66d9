/** What the benchmark measures, shared by its Node and browser halves (no Node or DOM imports). */
import type { StepMeasurement } from './step';

export interface BackendReport {
  environment: 'node' | 'chromium';
  backend: string;
  adapter?: string;
  matmulFlopsPerSecond: number;
  weightBytes: { int8Package: number; float32Package: number };
  grid: StepMeasurement[];
  synthetic: { model: string; parameters: number; measurement: StepMeasurement | null; error?: string }[];
  exponents: { batch: number; sequence: number; virtualTokens: number } | null;
  timeToFirstStepMs?: { total: number; modelLoad: number; firstStep: number; compileShare: number };
  longTasks?: { count: number; maxMs: number };
}

export interface GridOptions {
  batches: number[];
  sequences: number[];
  virtualTokens: number[];
  steps: number;
  synthetic: boolean;
}

export const FULL_GRID: GridOptions = { batches: [1, 8, 32], sequences: [64, 256], virtualTokens: [20, 100], steps: 4, synthetic: true };
export const QUICK_GRID: GridOptions = { batches: [1], sequences: [64], virtualTokens: [20], steps: 2, synthetic: false };
