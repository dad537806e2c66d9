/** The benchmark's markdown table, from the reports of every backend. */
import type { BackendReport } from './grid';

const g = (x: number) => (x / 1e9).toFixed(2);
const kib = (x: number) => `${(x / 1024).toFixed(0)} KiB`;

export function markdownReport(reports: BackendReport[], machine: string): string {
  const lines: string[] = [];
  lines.push(`Machine: ${machine}`, '');
  lines.push('Training step, prompt tuning on stories260K (int8 package), AdamW, one target token per row:', '');
  lines.push('| where | backend | batch | seq | P | ms/step | tokens/s | GFLOP/s | matmul GFLOP/s | ratio | peak bytes | tensors first→last |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of reports) {
    for (const m of r.grid) {
      lines.push(`| ${r.environment} | ${r.backend} | ${m.shape.batch} | ${m.shape.sequence} | ${m.shape.virtualTokens} | ${m.stepMs.toFixed(1)} | ${m.tokensPerSecond.toFixed(0)} | ${g(m.flopsPerSecond)} | ${g(r.matmulFlopsPerSecond)} | ${(m.flopsPerSecond / r.matmulFlopsPerSecond).toFixed(3)} | ${kib(m.peakBytes)} | ${m.tensorsAfterFirstStep}→${m.tensorsAfterLastStep} |`);
    }
  }
  const synthetic = reports.flatMap((r) => r.synthetic.map((s) => ({ r, s })));
  if (synthetic.length) {
    lines.push('', 'Larger synthetic models (Llama layout, random int8 weights), batch 8, seq 64, P 20:', '');
    lines.push('| where | backend | model | parameters | ms/step | GFLOP/s | ratio to matmul |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const { r, s } of synthetic) {
      const m = s.measurement;
      lines.push(`| ${r.environment} | ${r.backend} | ${s.model} | ${(s.parameters / 1e6).toFixed(1)} M | ${m ? m.stepMs.toFixed(0) : s.error ?? '–'} | ${m ? g(m.flopsPerSecond) : '–'} | ${m ? (m.flopsPerSecond / r.matmulFlopsPerSecond).toFixed(3) : '–'} |`);
    }
  }
  lines.push('', 'Scaling (fitted exponents of step time), weights on the backend, start-up and main-thread long tasks:', '');
  lines.push('| where | backend | exp. batch | exp. seq | exp. P | weight bytes int8 pkg | float32 pkg | open → first step | shader/first-use share | long tasks >50 ms (max) |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of reports) {
    const e = r.exponents;
    const t = r.timeToFirstStepMs;
    lines.push(`| ${r.environment} | ${r.backend}${r.adapter ? ` (${r.adapter})` : ''} | ${e ? e.batch.toFixed(2) : '–'} | ${e ? e.sequence.toFixed(2) : '–'} | ${e ? e.virtualTokens.toFixed(2) : '–'} | ${kib(r.weightBytes.int8Package)} | ${kib(r.weightBytes.float32Package)} | ${t ? `${(t.total / 1000).toFixed(1)} s` : '–'} | ${t ? `${(t.compileShare * 100).toFixed(0)}%` : '–'} | ${r.longTasks ? `${r.longTasks.count} (${r.longTasks.maxMs.toFixed(0)} ms)` : '–'} |`);
  }
  return lines.join('\n') + '\n';
}
