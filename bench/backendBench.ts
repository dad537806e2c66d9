/**
 * What `npm run bench` measures on one backend, once the backend is started and the default
 * model is open: the training-step grid, the overlap run, generation, the larger models, and
 * the kernel profile (its own section, after everything timed). Shared by the Node half
 * (node.ts), the browser's worker (browser/bench.worker.ts) and the GPU kit (gpu/main.ts);
 * no Node or DOM imports.
 */
import { activationSpend, leastRecompute } from '../src/engine/memoryBudget';
import { buildModel } from '../src/model/build';
import type { ModelPackage } from '../src/model/package';
import type { CausalLM, MlpRecompute } from '../src/model/types';
import type { TextTokenizer } from '../src/tokenizer/tokenizer';
import { fitExponents } from './fit';
import { recomputedMlpFlops, type StepShape } from '../src/model/flops';
import { measureGeneration } from './generation';
import { attentionElements, gridShapes, shapeBudget, type BackendReport, type GridOptions, type ModelRow } from './grid';
import { profileTrainingStep } from './kernelProfile';
import { matmulFlopsPerSecond, matmulFlopsPerSecondNow, measureOverlap, measureTrainingStep, type StepMeasurement } from './step';
import { mlpPreActivations, trainingStepBytes, weightBytes, type MemoryDims } from '../src/model/memory';
import { REAL_SIZE_SHAPES, SYNTHETIC_MODELS, syntheticPackage, type SyntheticShape } from './synthetic';

/**
 * A model the bench measures beside the default one: a name, how to get its package, and
 * the shapes to time. The list is the caller's (synthetic models everywhere; checkpoints on
 * disk in Node; real-size layouts made on the spot in the GPU kit).
 */
export interface BenchModel {
  name: string;
  /** Its dimensions, for the memory model that decides whether a backend can hold it. */
  dims: MemoryDims;
  /** What it is, for the report: "synthetic, Llama layout, random int8 weights", "checkpoint …". */
  kind: string;
  parameters: number;
  vocabSize: number;
  shapes: StepShape[];
  /** Steps per shape (at least 3: see measureTrainingStep). */
  steps?: number;
  load(): ModelPackage | Promise<ModelPackage>;
}

/** The shape every larger model was timed at before the list: batch 8, sequence 64, 20 virtual tokens. */
export const MODEL_SHAPE: StepShape = { batch: 8, sequence: 64, virtualTokens: 20, targets: 1 };

/** Parameters of a synthetic shape, from its dimensions (as syntheticPackage lays them out). */
export function syntheticParameters(s: SyntheticShape): number {
  const d = s.hiddenSize;
  const ffn = s.intermediateSize;
  if (s.modelType === 'gpt2') {
    // Two LayerNorms, c_attn, c_proj, c_fc, the MLP's c_proj, each with its bias; learned positions; ln_f.
    const layer = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * ffn + ffn) + (ffn * d + d);
    return (s.vocabSize + s.maxPositions) * d + s.layers * layer + 2 * d;
  }
  const kv = s.kvHeads * (d / s.heads);
  const bias = s.modelType === 'qwen2' ? d + 2 * kv : 0;
  const layer = 2 * d + 2 * d * d + 2 * d * kv + bias + 3 * d * ffn;
  return s.vocabSize * d + s.layers * layer + d;
}

/** The layout's name in the report. */
const layoutName = (s: SyntheticShape) => ({ llama: 'Llama', qwen2: 'Qwen2', gpt2: 'GPT-2' })[s.modelType ?? 'llama'];

/** A synthetic shape's dimensions as the memory model reads them. */
export function syntheticDims(s: SyntheticShape): MemoryDims {
  return {
    modelType: s.modelType ?? 'llama', numLayers: s.layers, hiddenSize: s.hiddenSize, intermediateSize: s.intermediateSize,
    numHeads: s.heads, numKeyValueHeads: s.kvHeads, headDim: s.hiddenSize / s.heads, vocabSize: s.vocabSize,
    maxPositions: s.maxPositions, tieWordEmbeddings: true, attentionBias: s.modelType === 'qwen2',
  };
}

/**
 * The real-size models: the published configurations of SmolLM2-135M and -360M,
 * Qwen2.5-0.5B and GPT-2 (random int8 weights, made in memory), at the shapes people train them at.
 */
export const REAL_SIZE_BENCH_SHAPES: StepShape[] = [
  { batch: 1, sequence: 32, virtualTokens: 20, targets: 1 },
  { batch: 8, sequence: 128, virtualTokens: 20, targets: 1 },
];

export function realSizeBenchModels(shapes = REAL_SIZE_BENCH_SHAPES): BenchModel[] {
  return REAL_SIZE_SHAPES.map((s) => ({ ...syntheticBenchModel(s, shapes, 3), kind: `${layoutName(s)} layout at real size, random int8 weights` }));
}

export function syntheticBenchModel(shape: SyntheticShape, shapes: StepShape[] = [MODEL_SHAPE], steps = 3): BenchModel {
  return {
    name: shape.name,
    dims: syntheticDims(shape),
    kind: `synthetic, ${layoutName(shape)} layout, random int8 weights`,
    parameters: syntheticParameters(shape), vocabSize: shape.vocabSize, shapes, steps,
    load: () => syntheticPackage(shape),
  };
}

/** The larger models of `npm run bench`: the synthetic ones, at batch 8 × 64 + 20. */
export function defaultBenchModels(): BenchModel[] {
  return SYNTHETIC_MODELS.map((s) => syntheticBenchModel(s));
}

/** The larger models a grid asks for: real-size or synthetic, those `--models` names (a part of the name, any case). */
export function benchModelsFor(grid: Pick<GridOptions, 'realSize' | 'modelNames'>): BenchModel[] {
  const all = grid.realSize ? realSizeBenchModels() : defaultBenchModels();
  if (!grid.modelNames?.length) return all;
  const names = grid.modelNames.map((n) => n.toLowerCase());
  const unknown = names.filter((n) => !all.some((m) => m.name.toLowerCase().includes(n)));
  if (unknown.length) throw new Error(`--models: no model named like "${unknown.join('", "')}"; the list is ${all.map((m) => m.name).join(', ')}`);
  return all.filter((m) => names.some((n) => m.name.toLowerCase().includes(n)));
}

/**
 * Bytes a larger model's training step needs, weights included: the studio's own memory model
 * (src/model/memory.ts), with the MLP recomputation the engine would choose.
 */
export function modelStepBytes(dims: MemoryDims, shape: StepShape, stepMemoryBytes?: number): number {
  return weightBytes(dims) + trainingStepBytes(dims, batchOf(shape), shape.targets, recomputeFor(dims, shape, stepMemoryBytes));
}

/** A bench shape as the memory model's batch: the target tokens follow the sequence, padded as the objective pads. */
const batchOf = (shape: StepShape) => ({ batch: shape.batch, sequence: Math.ceil((shape.sequence + shape.targets) / 8) * 8, promptTokens: shape.virtualTokens, prefixTokens: 0 });

/** The engine's choice (src/engine/memoryBudget.ts): the least recomputation within its activation spend (at the Step memory given, or the default). */
function recomputeFor(dims: MemoryDims, shape: StepShape, stepMemoryBytes?: number): MlpRecompute {
  const spend = activationSpend(weightBytes(dims), Infinity, stepMemoryBytes);
  return leastRecompute((r) => trainingStepBytes(dims, batchOf(shape), shape.targets, r), spend, mlpPreActivations(dims));
}

/** What a backend holds (as the engine budgets it); plain-JS cpu and a software adapter would take tens of minutes a step: no larger models there. */
export function modelBudget(backend: string, softwareAdapter: boolean): number {
  if (backend === 'cpu' || (backend === 'webgpu' && softwareAdapter)) return 0;
  if (backend === 'wasm') return 0.8 * 4294901760;
  return Infinity;
}

export function exponentsOf(grid: StepMeasurement[]): BackendReport['exponents'] {
  if (new Set(grid.map((m) => m.shape.batch)).size < 2) return null;
  const [batch, sequence, virtualTokens] = fitExponents(grid.map((m) => ({
    x: [m.shape.batch, m.shape.sequence, m.shape.virtualTokens], y: m.stepMs,
  })));
  return { batch, sequence, virtualTokens };
}

/** Each model of the list at each of its shapes; what a backend cannot hold or would take hours on is a row that says so. */
export async function measureModels(
  models: BenchModel[], tokenizer: TextTokenizer, backend: string, softwareAdapter: boolean, log: (s: string) => void,
  budget = modelBudget(backend, softwareAdapter), onRow?: (rows: ModelRow[]) => void, stepMemoryBytes?: number,
): Promise<ModelRow[]> {
  const rows: ModelRow[] = [];
  const push = (r: ModelRow) => {
    rows.push(r);
    onRow?.(rows);
  };
  for (const m of models) {
    const row = (shape: StepShape, measurement: StepMeasurement | null, error?: string, beside?: Pick<ModelRow, 'mlpRecompute' | 'mlpPreActivations' | 'recomputedFlops' | 'matmulFlopsPerSecond'>): ModelRow =>
      ({ model: m.name, kind: m.kind, parameters: m.parameters, shape, measurement, ...(error ? { error } : {}), ...beside });
    const fits = m.shapes.filter((shape) => modelStepBytes(m.dims, shape, stepMemoryBytes) <= budget);
    for (const shape of m.shapes.filter((s) => !fits.includes(s))) {
      const needs = modelStepBytes(m.dims, shape, stepMemoryBytes);
      const error = budget === 0
        ? 'skipped: a step would take tens of minutes on this backend'
        : `skipped: a step needs about ${(needs / 2 ** 30).toFixed(1)} GiB, more than this backend holds`;
      push(row(shape, null, error));
      log(`${m.name} B=${shape.batch} S=${shape.sequence} P=${shape.virtualTokens}: ${error}`);
    }
    if (!fits.length) continue;
    let model: CausalLM | null = null;
    try {
      const started = performance.now();
      model = buildModel(await m.load());
      log(`${m.name}: made and loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      for (const shape of fits) {
        try {
          const mlpRecompute = recomputeFor(m.dims, shape, stepMemoryBytes);
          model.mlpRecompute = mlpRecompute;
          // Where a matmul can be timed synchronously, between the steps; on WebGPU before and after the row.
          const between = backend === 'wasm' || backend === 'cpu';
          const before = between ? 0 : await matmulFlopsPerSecond();
          const measurement = await measureTrainingStep(model, tokenizer, shape, m.steps ?? 3, between ? () => matmulFlopsPerSecondNow() : undefined);
          const matmul = measurement.matmulFlopsPerSecond ?? (before + (await matmulFlopsPerSecond())) / 2;
          push(row(shape, measurement, undefined, {
            mlpRecompute, mlpPreActivations: mlpPreActivations(m.dims), recomputedFlops: recomputedMlpFlops(m.dims, shape, mlpRecompute), matmulFlopsPerSecond: matmul,
          }));
          log(`${m.name} B=${shape.batch} S=${shape.sequence} P=${shape.virtualTokens}: ${measurement.stepMs.toFixed(0)} ms/step, ${(measurement.flopsPerSecond / 1e9).toFixed(2)} GFLOP/s`);
        } catch (e) {
          push(row(shape, null, (e as Error).message));
          log(`${m.name} B=${shape.batch} S=${shape.sequence} P=${shape.virtualTokens}: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      for (const shape of fits) push(row(shape, null, (e as Error).message));
      log(`${m.name}: ${(e as Error).message}`);
    } finally {
      model?.dispose();
    }
  }
  return rows;
}

export type BackendMeasurements = Pick<BackendReport, 'grid' | 'exponents' | 'overlap' | 'generation' | 'models' | 'profile'>;

/** The default model's grid, overlap and generation, the larger models, then the profile. */
export async function measureOnBackend(args: {
  model: CausalLM;
  tokenizer: TextTokenizer;
  backend: string;
  softwareAdapter: boolean;
  grid: GridOptions;
  models: BenchModel[];
  log: (s: string) => void;
  /** Called with what is measured so far after each measurement (the GPU kit saves it as it goes). */
  onProgress?: (soFar: BackendMeasurements) => void;
}): Promise<BackendMeasurements> {
  const { model, tokenizer, backend, softwareAdapter, grid, log } = args;
  const out: BackendMeasurements = { grid: [], exponents: null, models: [] };
  const progress = () => args.onProgress?.(out);
  const budget = shapeBudget(backend, softwareAdapter);
  for (const { batch, sequence, virtualTokens } of gridShapes(grid)) {
    if (attentionElements({ batch, sequence, virtualTokens }) > budget) {
      log(`B=${batch} S=${sequence} P=${virtualTokens}: skipped (over this backend's memory/time budget)`);
      continue;
    }
    const m = await measureTrainingStep(model, tokenizer, { batch, sequence, virtualTokens, targets: 1 }, grid.steps);
    out.grid.push(m);
    progress();
    log(`B=${batch} S=${sequence} P=${virtualTokens}: ${m.stepMs.toFixed(1)} ms/step, ${(m.flopsPerSecond / 1e9).toFixed(2)} GFLOP/s, peak ${(m.peakBytes / 2 ** 20).toFixed(1)} MiB`);
  }
  out.exponents = exponentsOf(out.grid);
  if (grid.overlap) {
    out.overlap = await measureOverlap(model, tokenizer, { ...grid.overlap, targets: 1 }, grid.overlap.steps);
    log(`overlap: ${out.overlap.waitingMsPerStep.toFixed(1)} ms/step waiting, ${out.overlap.overlappedMsPerStep.toFixed(1)} overlapped`);
    progress();
  }
  out.generation = await measureGeneration(model, tokenizer, grid.generation, log);
  progress();
  if (grid.models) {
    out.models = await measureModels(args.models, tokenizer, backend, softwareAdapter, log, undefined, (rows) => {
      out.models = rows;
      progress();
    }, grid.stepMemoryMiB === undefined ? undefined : grid.stepMemoryMiB * 2 ** 20);
  }
  if (grid.profile && attentionElements(grid.profile) <= budget) {
    out.profile = await profileTrainingStep(model, tokenizer, { ...grid.profile, targets: 1 }, grid.profile.steps);
    const top = out.profile.kernels.slice(0, 3).map((k) => `${k.name} ${k.msPerStep.toFixed(1)} ms`).join(', ');
    log(`profile: ${out.profile.kernelMsPerStep.toFixed(1)} ms of kernels per step (${top})`);
    progress();
  }
  return out;
}
