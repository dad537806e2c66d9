/**
 * What `train` says of a run before its first step — the data's token lengths, the memory
 * plan, the time estimate — and `train --dry-run`, which says only that: the same check the
 * run would make, without training.
 */
import type { DatasetSummary, ModelFacts, RunMemory } from '../../engine/api';
import type { StudioEngine } from '../../engine/studio';
import type { TrainConfig } from '../../tuning/config';
import { estimateCpuRun, type RunEstimate } from '../../tuning/runEstimate';
import { cutByMaxLength, lengthCapFor, lengthQuantile, type TokenLengths } from '../../tuning/tokenLengths';
import type { CliIo } from '../args';

const span = (ms: number) => (ms < 90_000 ? `${Math.round(ms / 1000)} s` : ms < 90 * 60_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);

/** For a model past 20M parameters on wasm or cpu (facts.stepSpeed), what the run takes; null otherwise. */
export function runEstimate(facts: ModelFacts, config: TrainConfig, dataset: DatasetSummary, lengths: TokenLengths, memory: RunMemory | undefined): RunEstimate | null {
  if (!facts.stepSpeed) return null;
  return estimateCpuRun(facts.stepSpeed.dims, facts.stepSpeed.matmulFlopsPerSecond, config, dataset.validationCount, lengths, memory?.mlpRecompute ?? 0);
}

export function estimateLine(estimate: RunEstimate, facts: ModelFacts, steps: number, resumed: boolean): string {
  const widths = estimate.meanBatchWidth === null ? 'when a batch fills the max length' : `at this data's lengths (batches about ${Math.round(estimate.meanBatchWidth)} tokens wide)`;
  return `estimated before the first step: about ${(estimate.stepMs / 1000).toFixed(1)} s a step ${widths}, about `
    + `${span(estimate.stepMs * steps)} for the ${steps} steps to go`
    + `${resumed ? ', plus evaluations' : `, and about ${span(estimate.evaluationMs * estimate.evaluations)} for the run's ${estimate.evaluations} evaluations of ${estimate.examples} examples`}`
    + ` (this machine's matmul: ${(facts.stepSpeed!.matmulFlopsPerSecond / 1e9).toFixed(0)} GFLOP/s)`;
}

function lengthFigures(lengths: TokenLengths, maxLength: number) {
  const all = [...lengths.train, ...lengths.validation].sort((a, b) => a - b);
  const { cut, of, sampled } = cutByMaxLength(lengths, maxLength);
  return { median: lengthQuantile(all, 0.5), within95: lengthQuantile(all, 0.95), longest: all[all.length - 1] ?? 0, counted: all.length, cut, of, sampled };
}

/**
 * The run checked and planned as `train` would start it, printed and not trained: one JSON
 * object on stdout (settings, token lengths, memory plan, estimate), the same in words on
 * stderr. A setting the engine refuses throws its refusal.
 */
export function dryRun(engine: StudioEngine, facts: ModelFacts, config: TrainConfig, verbalizer: Record<string, string>, dataset: DatasetSummary, io: CliIo): void {
  const memory = engine.previewRun({ config, verbalizer });
  const lengths = engine.tokenLengths(config.template, Infinity, lengthCapFor(config.maxLength)); // every text: nothing else waits on the CLI
  const figures = lengthFigures(lengths, config.maxLength);
  const estimate = runEstimate(facts, config, dataset, lengths, memory);
  io.err(`texts in the model's tokens, template included: median ${figures.median}, 95% within ${figures.within95}, longest ${figures.longest}`
    + `${figures.sampled ? ` (a sample of ${figures.counted})` : ''}; max length ${config.maxLength} cuts ${figures.sampled ? 'about ' : ''}${figures.cut} of ${figures.of}\n`);
  io.err(`${memory.note}\n`);
  if (estimate) io.err(`${estimateLine(estimate, facts, config.steps, false)}\n`);
  io.err('dry run: nothing was trained\n');
  io.out(JSON.stringify({ dryRun: true, config, verbalizer, tokenLengths: figures, memory, estimate }) + '\n');
}
