/**
 * The prompt-tuning paper's ablation (Lester et al. 2021, Figure 3), on our model:
 * prompt length {1, 5, 20, 50} × initialization {random, sampled vocabulary, text, class
 * labels}, prompt tuning on a balanced sample of the real SMS spam data, in Node.
 *   npm run ablation [-- --backend wasm|cpu] [--steps N] [--quick]
 * Writes docs/results/ablation.{json,md,svg}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { InitKind } from '../src/tuning/init';
import { lineChart } from './svg-chart';
import { loadDataset, majorityAccuracy, openModel, root, runExperiment, type ExperimentResult } from './experiment';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '150' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(root, 'docs', 'results') },
  },
});
const quick = values.quick;
const lengths = quick ? [1, 5] : [1, 5, 20, 50];
const inits: InitKind[] = ['random', 'vocab', 'text', 'labels'];
const steps = quick ? 10 : Number(values.steps);

const session = await openModel(values.backend as 'wasm' | 'cpu');
const dataset = loadDataset('sms_spam.csv', quick ? 40 : 600, 0);
const majority = majorityAccuracy(dataset);
const results: Record<string, Record<number, ExperimentResult>> = {};
const started = Date.now();
for (const init of inits) {
  results[init] = {};
  for (const length of lengths) {
    const r = await runExperiment(session, dataset, {
      method: 'prompt', numVirtualTokens: length, init, initText: 'Is this message spam or not spam?',
      optimizer: 'adamw', learningRate: 0.1, batchSize: quick ? 4 : 16, steps, warmupSteps: Math.min(10, steps - 1),
      maxLength: 64, evalEvery: steps, projectEvery: steps, checkpointEvery: steps, maxEvalExamples: quick ? 20 : 0, seed: 1,
    });
    results[init][length] = r;
    process.stderr.write(`${init} P=${length}: zero-shot ${r.zeroShot.toFixed(3)} → ${r.trained.toFixed(3)} (discrete ${r.discrete?.toFixed(3)}) in ${r.seconds.toFixed(0)} s\n`);
  }
}
const minutes = (Date.now() - started) / 60000;
const header = `| init \\ prompt length | ${lengths.join(' | ')} |\n|---|${lengths.map(() => '---').join('|')}|\n`;
const rows = inits.map((init) => `| ${init} | ${lengths.map((l) => results[init][l].trained.toFixed(3)).join(' | ')} |`).join('\n');
const discreteRows = inits.map((init) => `| ${init} | ${lengths.map((l) => results[init][l].discrete?.toFixed(3) ?? '–').join(' | ')} |`).join('\n');
const markdown = `Validation accuracy after ${steps} steps of prompt tuning (AdamW lr 0.1, batch ${quick ? 4 : 16}), `
  + `SMS spam balanced sample (${dataset.examples.length} rows, majority baseline ${majority.toFixed(3)}), ${values.backend} backend, ${minutes.toFixed(1)} min in all.\n\n`
  + `Soft prompt:\n\n${header}${rows}\n\nIts discrete projection (each virtual token replaced by its nearest vocabulary token):\n\n${header}${discreteRows}\n`;
mkdirSync(values.out!, { recursive: true });
const name = quick ? 'ablation-quick' : 'ablation';
writeFileSync(path.join(values.out!, `${name}.json`), JSON.stringify({ steps, backend: values.backend, majority, lengths, results, minutes }, null, 2) + '\n');
writeFileSync(path.join(values.out!, `${name}.md`), markdown);
writeFileSync(path.join(values.out!, `${name}.svg`), lineChart({
  title: 'Prompt length × initialization (stories260K, SMS spam)', xLabel: 'virtual tokens (log scale)', yLabel: 'validation accuracy',
  x: lengths, logX: true, yMin: 0.4, yMax: 1,
  series: inits.map((init) => ({ name: init, values: lengths.map((l) => results[init][l].trained) })),
  reference: { value: majority, label: 'majority class' },
}));
process.stdout.write(markdown);
session.dispose();
