/**
 * The Node half of `npm run bench`: the training-step grid on the cpu and wasm backends,
 * the synthetic larger models, generation speed (prefill and decode), and each backend's
 * plain matmul speed.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { folderSource } from '../src/cli/nodeSource';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import { buildModel } from '../src/model/build';
import { fitExponents } from './fit';
import { measureGeneration } from './generation';
import { measureOverlap, measureTrainingStep, matmulFlopsPerSecond, type StepMeasurement } from './step';
import { SYNTHETIC_MODELS, syntheticPackage } from './synthetic';
import { attentionElements, gridShapes, shapeBudget, syntheticBudget, syntheticStepBytes, type BackendReport, type GridOptions } from './grid';

export type { BackendReport, GridOptions } from './grid';
export { FULL_GRID, QUICK_GRID, generationOnly, overlapOnly } from './grid';

const root = path.resolve(import.meta.dirname, '..');

async function weightBytes(backend: BackendName) {
  const out = { int8Package: 0, float32Package: 0 };
  for (const [key, id] of [['int8Package', 'stories260K'], ['float32Package', 'stories260K-f32']] as const) {
    const before = tf.memory().numBytes;
    const session = await ModelSession.open(folderSource(path.join(root, 'public', 'models', id)), await selectBackend(backend));
    out[key] = tf.memory().numBytes - before;
    session.dispose();
  }
  return out;
}

export function exponentsOf(grid: StepMeasurement[]) {
  if (new Set(grid.map((m) => m.shape.batch)).size < 2) return null;
  const [batch, sequence, virtualTokens] = fitExponents(grid.map((m) => ({
    x: [m.shape.batch, m.shape.sequence, m.shape.virtualTokens], y: m.stepMs,
  })));
  return { batch, sequence, virtualTokens };
}

export async function runNodeBench(backend: BackendName, grid: GridOptions, log: (s: string) => void): Promise<BackendReport> {
  const choice = await selectBackend(backend);
  const report: BackendReport = {
    environment: 'node', backend, matmulFlopsPerSecond: await matmulFlopsPerSecond(), weightBytes: await weightBytes(backend),
    grid: [], synthetic: [], exponents: null,
  };
  log(`${backend}: float32 matmul ${(report.matmulFlopsPerSecond / 1e9).toFixed(1)} GFLOP/s`);
  const session = await ModelSession.open(folderSource(path.join(root, 'public', 'models', 'stories260K')), choice);
  const budget = shapeBudget(backend, false);
  for (const { batch, sequence, virtualTokens } of gridShapes(grid)) {
    if (attentionElements({ batch, sequence, virtualTokens }) > budget) {
      log(`${backend} B=${batch} S=${sequence} P=${virtualTokens}: skipped (over this backend's memory/time budget)`);
      continue;
    }
    const m = await measureTrainingStep(session.model, session.tokenizer, { batch, sequence, virtualTokens, targets: 1 }, grid.steps);
    report.grid.push(m);
    log(`${backend} B=${batch} S=${sequence} P=${virtualTokens}: ${m.stepMs.toFixed(1)} ms/step, ${(m.flopsPerSecond / 1e9).toFixed(2)} GFLOP/s`);
  }
  report.exponents = exponentsOf(report.grid);
  if (grid.overlap) {
    report.overlap = await measureOverlap(session.model, session.tokenizer, { ...grid.overlap, targets: 1 }, grid.overlap.steps);
    log(`${backend} overlap: ${report.overlap.waitingMsPerStep.toFixed(1)} ms/step waiting, ${report.overlap.overlappedMsPerStep.toFixed(1)} overlapped`);
  }
  report.generation = await measureGeneration(session.model, session.tokenizer, grid.generation, (s) => log(`${backend} ${s}`));
  if (grid.synthetic) {
    for (const shape of SYNTHETIC_MODELS) {
      const pkg = syntheticPackage(shape);
      const needs = syntheticStepBytes(pkg.weights.parameterCount(), shape.vocabSize, 8, 85);
      const budgetOf = syntheticBudget(backend, false);
      if (needs > budgetOf) {
        const error = budgetOf === 0
          ? 'skipped: a step would take tens of minutes on this backend'
          : `skipped: a step needs about ${(needs / 2 ** 30).toFixed(1)} GiB, more than this backend holds`;
        report.synthetic.push({ model: shape.name, parameters: pkg.weights.parameterCount(), measurement: null, error });
        log(`${backend} ${shape.name}: ${error}`);
        continue;
      }
      try {
        const model = buildModel(pkg);
        try {
          const m = await measureTrainingStep(model, session.tokenizer, { batch: 8, sequence: 64, virtualTokens: 20, targets: 1 }, 3);
          report.synthetic.push({ model: shape.name, parameters: pkg.weights.parameterCount(), measurement: m });
          log(`${backend} ${shape.name}: ${m.stepMs.toFixed(0)} ms/step, ${(m.flopsPerSecond / 1e9).toFixed(2)} GFLOP/s`);
        } finally {
          model.dispose();
        }
      } catch (e) {
        report.synthetic.push({ model: shape.name, parameters: pkg.weights.parameterCount(), measurement: null, error: (e as Error).message });
      }
    }
  }
  session.dispose();
  return report;
}
