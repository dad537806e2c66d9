/** What the benchmark measures, shared by its Node and browser halves (no Node or DOM imports). */
import type { GenerationMeasurement } from './generation';
import type { OverlapMeasurement, StepMeasurement } from './step';

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
  /** Greedy generation with the KV cache on the int8 package (absent in results from before it was measured). */
  generation?: GenerationMeasurement[];
  /** Overlapped against waiting steps (absent in results from before it was measured). */
  overlap?: OverlapMeasurement;
}

export interface GridOptions {
  batches: number[];
  sequences: number[];
  virtualTokens: number[];
  /** Steps per shape: at least 3, so one lies between the first and the last (see measureTrainingStep). */
  steps: number;
  synthetic: boolean;
  generation: GenerationOptions;
  /** The overlapped-against-waiting run (see measureOverlap); null skips it. */
  overlap: { batch: number; sequence: number; virtualTokens: number; steps: number } | null;
}

export interface GenerationOptions {
  /** Prompt lengths to time, in tokens ([BOS] + text). */
  promptTokens: number[];
  /** Tokens generated per run. */
  newTokens: number;
  /** Timed runs per prompt length, after one untimed warm-up run. */
  repeats: number;
}

export const FULL_GRID: GridOptions = {
  batches: [1, 8, 32], sequences: [64, 256], virtualTokens: [20, 100], steps: 4, synthetic: true,
  generation: { promptTokens: [32, 256], newTokens: 128, repeats: 3 },
  overlap: { batch: 1, sequence: 64, virtualTokens: 20, steps: 8 },
};
export const QUICK_GRID: GridOptions = {
  batches: [1], sequences: [64], virtualTokens: [20], steps: 3, synthetic: false,
  generation: { promptTokens: [32], newTokens: 32, repeats: 2 },
  overlap: { batch: 1, sequence: 64, virtualTokens: 20, steps: 4 },
};

/** `--only generation`: the generation section alone, without the training grid. */
export function generationOnly(grid: GridOptions): GridOptions {
  return { ...grid, batches: [], synthetic: false, overlap: null };
}

/** `--only overlap`: the overlapped-against-waiting run alone. */
export function overlapOnly(grid: GridOptions): GridOptions {
  return { ...grid, batches: [], synthetic: false, generation: { ...grid.generation, promptTokens: [] } };
}

export type BenchSection = 'generation' | 'overlap';

export function gridFor(quick: boolean, only: BenchSection | null): GridOptions {
  const grid = quick ? QUICK_GRID : FULL_GRID;
  return only === 'generation' ? generationOnly(grid) : only === 'overlap' ? overlapOnly(grid) : grid;
}

/**
 * Attention scores are B·T² per head and layer, and the backward pass keeps them: past a few
 * million the wasm heap (4 GiB, 32-bit) runs out and aborts the process, and plain-JS cpu or a
 * software WebGPU adapter would take hours. Shapes over the backend's budget are skipped and
 * reported as such; a real GPU gets no cap.
 */
export function attentionElements(shape: { batch: number; sequence: number; virtualTokens: number }): number {
  const t = shape.sequence + shape.virtualTokens + 1;
  return shape.batch * t * t;
}

export function shapeBudget(backend: string, softwareAdapter: boolean): number {
  if (backend === 'wasm') return 3e6;
  if (backend === 'cpu' || (backend === 'webgpu' && softwareAdapter)) return 1.5e5;
  return Infinity;
}

export function gridShapes(grid: GridOptions): { batch: number; sequence: number; virtualTokens: number }[] {
  return grid.batches.flatMap((batch) => grid.sequences.flatMap((sequence) => grid.virtualTokens.map((virtualTokens) => ({ batch, sequence, virtualTokens }))));
}

/**
 * Bytes a synthetic model's training step needs on a backend that widens int8 weights to
 * float32 (wasm, cpu): the weights plus the logits and their gradients. The wasm heap aborts
 * the whole process when it runs out, so larger models are skipped there, not attempted.
 */
export function syntheticStepBytes(parameters: number, vocabSize: number, batch: number, tokens: number): number {
  return 4 * parameters + 3 * 4 * batch * tokens * vocabSize;
}

/** Plain-JS cpu and a software adapter would take tens of minutes a step: no synthetic models there. */
export function syntheticBudget(backend: string, softwareAdapter: boolean): number {
  if (backend === 'wasm') return 640 * 2 ** 20;
  if (backend === 'cpu' || (backend === 'webgpu' && softwareAdapter)) return 0;
  return Infinity;
}
