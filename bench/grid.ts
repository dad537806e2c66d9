/** What the benchmark measures, shared by its Node and browser halves (no Node or DOM imports). */
import type { MlpRecompute } from '../src/model/types';
import type { StepShape } from '../src/model/flops';
import type { GenerationMeasurement } from './generation';
import type { KernelProfile } from './kernelProfile';
import type { OverlapMeasurement, StepMeasurement } from './step';

/** One row of the larger models' section: a model at one shape, measured or skipped (error says why). */
export interface ModelRow {
  model: string;
  /** What it is: synthetic (which layout) or a checkpoint. */
  kind?: string;
  parameters: number;
  shape: StepShape;
  measurement: StepMeasurement | null;
  error?: string;
  /** How many MLP pre-activations the backward made again (their matmuls are not counted as the step's FLOPs), of mlpPreActivations. */
  mlpRecompute?: MlpRecompute;
  mlpPreActivations?: number;
  /** The recomputed pre-activations' matmuls (bench/flops.ts recomputedMlpFlops), done beside the step's FLOPs. */
  recomputedFlops?: number;
  /**
   * The float32 matmul rate measured beside this row: on wasm and cpu between its steps (just
   * before and just after each steady step), on WebGPU just before and just after the row. A
   * long row's ratio is against the machine's speed at the time, not at the run's start.
   */
  matmulFlopsPerSecond?: number;
}

export interface BackendReport {
  environment: 'node' | 'chromium';
  backend: string;
  adapter?: string;
  /** wasm: the threads XNNPACK runs on (Node: one; Chromium: every core where cross-origin isolated). Absent in older results. */
  threads?: number;
  matmulFlopsPerSecond: number;
  weightBytes: { int8Package: number; float32Package: number };
  grid: StepMeasurement[];
  /** Larger models (bench/backendBench.ts: BenchModel), each at its shapes. */
  models: ModelRow[];
  exponents: { batch: number; sequence: number; virtualTokens: number } | null;
  timeToFirstStepMs?: { total: number; modelLoad: number; firstStep: number; compileShare: number };
  longTasks?: { count: number; maxMs: number };
  /** Greedy generation with the KV cache on the int8 package (absent in results from before it was measured). */
  generation?: GenerationMeasurement[];
  /** Overlapped against waiting steps (absent in results from before it was measured). */
  overlap?: OverlapMeasurement;
  /** tf.profile over whole steps, apart from the timed ones (absent where not taken). */
  profile?: KernelProfile;
}

export interface GridOptions {
  batches: number[];
  sequences: number[];
  virtualTokens: number[];
  /** Steps per shape: at least 3, so one lies between the first and the last (see measureTrainingStep). */
  steps: number;
  /** Whether to measure the larger models (the caller's list: bench/backendBench.ts). */
  models: boolean;
  /** The larger models are the real-size ones (SmolLM2-135M/360M, Qwen2.5-0.5B, GPT-2 layouts), not the synthetic pair. */
  realSize?: boolean;
  /** Only the larger models whose names contain one of these (`--models`); all when absent. */
  modelNames?: string[];
  /** The larger models' Step memory setting in MiB (`--step-memory`); the studio's default when absent. */
  stepMemoryMiB?: number;
  generation: GenerationOptions;
  /** The overlapped-against-waiting run (see measureOverlap); null skips it. */
  overlap: { batch: number; sequence: number; virtualTokens: number; steps: number } | null;
  /** The profiled steps (bench/kernelProfile.ts), after a warm-up step; null skips them. */
  profile: { batch: number; sequence: number; virtualTokens: number; steps: number } | null;
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
  batches: [1, 8, 32], sequences: [64, 256], virtualTokens: [20, 100], steps: 4, models: true,
  generation: { promptTokens: [32, 256], newTokens: 128, repeats: 3 },
  overlap: { batch: 1, sequence: 64, virtualTokens: 20, steps: 8 },
  profile: { batch: 8, sequence: 64, virtualTokens: 20, steps: 2 },
};
export const QUICK_GRID: GridOptions = {
  batches: [1], sequences: [64], virtualTokens: [20], steps: 3, models: false,
  generation: { promptTokens: [32], newTokens: 32, repeats: 2 },
  overlap: { batch: 1, sequence: 64, virtualTokens: 20, steps: 4 },
  profile: { batch: 1, sequence: 64, virtualTokens: 20, steps: 1 },
};

/** The GPU kit's smoke run on a software adapter: every section once, at the smallest size. */
export const SMOKE_GRID: GridOptions = {
  batches: [1], sequences: [32], virtualTokens: [4], steps: 3, models: true,
  generation: { promptTokens: [16], newTokens: 4, repeats: 1 },
  overlap: null,
  profile: { batch: 1, sequence: 32, virtualTokens: 4, steps: 1 },
};

const NOTHING: Pick<GridOptions, 'batches' | 'models' | 'overlap' | 'profile'> = { batches: [], models: false, overlap: null, profile: null };

/** `--only generation`: the generation section alone, without the training grid. */
export function generationOnly(grid: GridOptions): GridOptions {
  return { ...grid, ...NOTHING };
}

/** `--only overlap`: the overlapped-against-waiting run alone. */
export function overlapOnly(grid: GridOptions): GridOptions {
  return { ...grid, ...NOTHING, overlap: grid.overlap, generation: { ...grid.generation, promptTokens: [] } };
}

/** `--only profile`: where a step's time goes, alone. */
export function profileOnly(grid: GridOptions): GridOptions {
  return { ...grid, ...NOTHING, profile: grid.profile, generation: { ...grid.generation, promptTokens: [] } };
}

/** `--only models`: the real-size models alone (SmolLM2-135M/360M, Qwen2.5-0.5B and GPT-2 layouts). */
export function modelsOnly(grid: GridOptions): GridOptions {
  return { ...grid, ...NOTHING, models: true, realSize: true, generation: { ...grid.generation, promptTokens: [] } };
}

/** The sections `--only` takes that are a part of this grid; a section with its own module adds its name beside. */
export const GRID_SECTIONS = { generation: generationOnly, overlap: overlapOnly, profile: profileOnly, models: modelsOnly } as const;
export type BenchSection = keyof typeof GRID_SECTIONS;

export function gridFor(quick: boolean, only: BenchSection | null): GridOptions {
  const grid = quick ? QUICK_GRID : FULL_GRID;
  return only ? GRID_SECTIONS[only](grid) : grid;
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
