/** The benchmark's markdown table, from the reports of every backend. */
import type { BackendReport, ModelRow } from './grid';
import type { StepMeasurement } from './step';
import { profileTable } from './kernelProfile';

const g = (x: number) => (x / 1e9).toFixed(2);
const kib = (x: number) => `${(x / 1024).toFixed(0)} KiB`;
/** The backend as a row names it: its adapter on WebGPU, its threads on wasm. */
const backendLabel = (r: BackendReport): string => `${r.backend}${r.adapter ? ` (${r.adapter})` : ''}${r.threads ? `, ${r.threads} thread${r.threads > 1 ? 's' : ''}` : ''}`;

export function markdownReport(reports: BackendReport[], machine: string): string {
  const lines: string[] = [];
  lines.push(`Machine: ${machine}`, '');
  if (reports.some((r) => r.grid.length)) {
    lines.push('Training step, prompt tuning on stories260K (int8 package), AdamW, one target token per row; timed without the profiler.'
      + ' Peak bytes: the most bytes of live tensors at any moment of the run, as tfjs counts them (the weights included; not the backend\'s own buffers or pools):', '');
    lines.push('| where | backend | batch | seq | P | ms/step | tokens/s | GFLOP/s | matmul GFLOP/s | ratio | peak bytes | tensors before→after |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of reports) {
      for (const m of r.grid) {
        lines.push(`| ${r.environment} | ${backendLabel(r)} | ${m.shape.batch} | ${m.shape.sequence} | ${m.shape.virtualTokens} | ${m.stepMs.toFixed(1)} | ${m.tokensPerSecond.toFixed(0)} | ${g(m.flopsPerSecond)} | ${g(r.matmulFlopsPerSecond)} | ${(m.flopsPerSecond / r.matmulFlopsPerSecond).toFixed(3)} | ${kib(m.peakBytes)} | ${m.tensorsBefore}→${m.tensorsAfter} |`);
      }
    }
    lines.push('');
  }
  const generation = reports.flatMap((r) => (r.generation ?? []).map((m) => ({ r, m })));
  if (generation.length) {
    lines.push('Generation, greedy with the KV cache on stories260K (int8 package), batch 1. Prefill: the prompt\'s forward up to the first token;'
      + ' decode: each further token. Ratio: achieved GFLOP/s over the same backend\'s float32 matmul GFLOP/s in this run.', '');
    lines.push('| where | backend | prompt | new | prefill ms | prefill tokens/s | decode ms/token | decode tokens/s | matmul GFLOP/s | prefill ratio | decode ratio | first prefill ms | tensors before→after |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const { r, m } of generation) {
      lines.push(`| ${r.environment} | ${backendLabel(r)} | ${m.promptTokens} | ${m.newTokens} | ${m.prefillMs.toFixed(1)} | ${m.prefillTokensPerSecond.toFixed(0)} | ${m.decodeMsPerToken.toFixed(2)} | ${m.decodeTokensPerSecond.toFixed(1)} | ${g(r.matmulFlopsPerSecond)} | ${(m.prefillFlopsPerSecond / r.matmulFlopsPerSecond).toFixed(4)} | ${(m.decodeFlopsPerSecond / r.matmulFlopsPerSecond).toFixed(4)} | ${m.firstPrefillMs.toFixed(0)} | ${m.tensorsBefore}→${m.tensorsAfter} |`);
    }
    lines.push('');
  }
  const overlap = reports.filter((r) => r.overlap);
  if (overlap.length) {
    const o = overlap[0].overlap!;
    lines.push(`Overlap: a run at batch ${o.shape.batch}, seq ${o.shape.sequence}, P ${o.shape.virtualTokens}, projecting every 2 steps and evaluating ${o.evaluationExamples} examples every 4,`
      + ' with each step waiting for the previous one\'s loss and for its evaluation, then overlapped (the next step dispatched before the loss is read,'
      + ' the evaluation run on a copy: the default on WebGPU); the faster of two alternating runs each way:', '');
    lines.push('| where | backend | steps | waiting ms/step | overlapped ms/step | speed-up |');
    lines.push('|---|---|---|---|---|---|');
    for (const r of overlap) {
      const m = r.overlap!;
      lines.push(`| ${r.environment} | ${backendLabel(r)} | ${m.steps} | ${m.waitingMsPerStep.toFixed(1)} | ${m.overlappedMsPerStep.toFixed(1)} | ${m.speedup.toFixed(2)}× |`);
    }
    lines.push('');
  }
  const models = reports.flatMap((r) => (r.models ?? []).map((row) => ({ r, row })));
  // The ratio again with the recomputed matmuls counted as work done: the kernels' efficiency, apart from the memory plan's cost.
  const withRecomputed = (m: StepMeasurement, row: ModelRow, matmul: number) =>
    row.recomputedFlops === undefined ? '–' : ((m.flops + row.recomputedFlops) / (m.stepMs / 1000) / matmul).toFixed(3);
  const recomputed = (row: ModelRow) => row.mlpRecompute === undefined ? '–' : `${row.mlpRecompute} of ${row.mlpPreActivations}`;
  if (models.length) {
    lines.push('Larger models, prompt tuning, AdamW, one target token per row (random int8 weights in the layout and size named; speed does not depend on the values):', '');
    lines.push('| where | backend | model | parameters | batch × seq + P | MLP recomputed | ms/step | tokens/s | GFLOP/s | matmul GFLOP/s beside | ratio to matmul | with recomputed matmuls | peak bytes |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const { r, row } of models) {
      const m = row.measurement;
      const shape = `${row.shape.batch} × ${row.shape.sequence} + ${row.shape.virtualTokens}`;
      const matmul = row.matmulFlopsPerSecond ?? r.matmulFlopsPerSecond;
      lines.push(`| ${r.environment} | ${backendLabel(r)} | ${row.model} | ${(row.parameters / 1e6).toFixed(1)} M | ${shape} | ${recomputed(row)} | ${m ? m.stepMs.toFixed(0) : row.error ?? '–'} | ${m ? m.tokensPerSecond.toFixed(0) : '–'} | ${m ? g(m.flopsPerSecond) : '–'} | ${m ? g(matmul) : '–'} | ${m ? (m.flopsPerSecond / matmul).toFixed(3) : '–'} | ${m ? withRecomputed(m, row, matmul) : '–'} | ${m ? kib(m.peakBytes) : '–'} |`);
    }
    lines.push('');
  }
  lines.push('Scaling (fitted exponents of step time), weights on the backend, start-up and main-thread long tasks:', '');
  lines.push('| where | backend | exp. batch | exp. seq | exp. P | weight bytes int8 pkg | float32 pkg | open → first step | shader/first-use share | long tasks >50 ms (max) |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of reports) {
    const e = r.exponents;
    const t = r.timeToFirstStepMs;
    lines.push(`| ${r.environment} | ${backendLabel(r)} | ${e ? e.batch.toFixed(2) : '–'} | ${e ? e.sequence.toFixed(2) : '–'} | ${e ? e.virtualTokens.toFixed(2) : '–'} | ${kib(r.weightBytes.int8Package)} | ${kib(r.weightBytes.float32Package)} | ${t ? `${(t.total / 1000).toFixed(1)} s` : '–'} | ${t ? `${(t.compileShare * 100).toFixed(0)}%` : '–'} | ${r.longTasks ? `${r.longTasks.count} (${r.longTasks.maxMs.toFixed(0)} ms)` : '–'} |`);
  }
  const profiled = reports.filter((r) => r.profile);
  if (profiled.length) {
    lines.push('');
    lines.push('Where a step\'s time goes: tfjs\'s profiler over whole steps, taken apart from the timed steps above (it times every kernel;'
      + ' on WebGPU it ends the compute pass after each dispatch, so a profiled step is slower than a timed one).', '');
    for (const r of profiled) {
      const p = r.profile!;
      lines.push(`${r.environment}, ${backendLabel(r)}: batch ${p.shape.batch}, sequence ${p.shape.sequence}, ${p.shape.virtualTokens} virtual tokens; `
        + `per step, over ${p.steps} profiled step${p.steps === 1 ? '' : 's'}: kernel time ${p.kernelMsPerStep.toFixed(1)} ms of ${p.wallMsPerStep.toFixed(1)} ms wall${p.timed ? '' : ' (this backend reported no kernel times)'}.`, '');
      lines.push(...profileTable(p, 10), '');
    }
  }
  return lines.join('\n').replace(/\n+$/, '') + '\n';
}
