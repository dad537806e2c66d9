/**
 * The Node half of `npm run bench`: on a backend (cpu, wasm, or webgpu through Dawn when
 * src/engine/nodeWebGPU.ts was imported first), each backend's plain matmul speed, the weight
 * bytes of both packages, then what bench/backendBench.ts measures.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { folderSource } from '../src/cli/nodeSource';
import { selectBackend, type BackendChoice, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import { benchModelsFor, measureOnBackend, type BenchModel } from './backendBench';
import type { BackendReport, GridOptions } from './grid';
import { matmulFlopsPerSecond } from './step';

export type { BackendReport, GridOptions } from './grid';
export { exponentsOf } from './backendBench';
export { FULL_GRID, QUICK_GRID, generationOnly, overlapOnly } from './grid';

export interface NodeBenchOptions {
  /** Where stories260K and stories260K-f32 are (default public/models). */
  modelsDir?: string;
  /** The larger models (default: the synthetic ones). */
  models?: BenchModel[];
  /** tfjs flags for the backend (NODE_WEBGPU_FLAGS on webgpu). */
  flags?: Record<string, number | boolean>;
  /** The side of the float32 matmul the backend's rate is measured with (512). */
  matmulSize?: number;
  /** The report so far, after each measurement. */
  onProgress?: (report: BackendReport) => void;
}

const root = path.resolve(import.meta.dirname, '..');

async function weightBytes(choice: BackendChoice, modelsDir: string) {
  const out = { int8Package: 0, float32Package: 0 };
  for (const [key, id] of [['int8Package', 'stories260K'], ['float32Package', 'stories260K-f32']] as const) {
    const before = tf.memory().numBytes;
    const session = await ModelSession.open(folderSource(path.join(modelsDir, id)), choice);
    out[key] = tf.memory().numBytes - before;
    session.dispose();
  }
  return out;
}

export async function runNodeBench(backend: BackendName, grid: GridOptions, log: (s: string) => void, options: NodeBenchOptions = {}): Promise<BackendReport> {
  const modelsDir = options.modelsDir ?? path.join(root, 'public', 'models');
  const choice = await selectBackend(backend, { flags: options.flags });
  const software = choice.backend === 'webgpu' && (choice.adapter?.isFallbackAdapter ?? false);
  const adapter = choice.backend === 'webgpu' && choice.adapter ? `${choice.adapter.description}${software ? ', software' : ''}` : undefined;
  const report: BackendReport = {
    environment: 'node', backend, ...(adapter ? { adapter } : {}), ...(choice.wasm ? { threads: choice.wasm.threads } : {}),
    matmulFlopsPerSecond: await matmulFlopsPerSecond(options.matmulSize), weightBytes: await weightBytes(choice, modelsDir),
    grid: [], models: [], exponents: null,
  };
  log(`${backend}${adapter ? ` (${adapter})` : ''}: float32 matmul ${(report.matmulFlopsPerSecond / 1e9).toFixed(1)} GFLOP/s`);
  const session = await ModelSession.open(folderSource(path.join(modelsDir, 'stories260K')), choice);
  try {
    Object.assign(report, await measureOnBackend({
      model: session.model, tokenizer: session.tokenizer, backend, softwareAdapter: software, grid,
      models: options.models ?? benchModelsFor(grid), log: (s) => log(`${backend} ${s}`),
      onProgress: (soFar) => options.onProgress?.({ ...report, ...soFar }),
    }));
  } finally {
    session.dispose();
  }
  return report;
}
