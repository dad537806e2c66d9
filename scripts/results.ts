/**
 * Validation accuracy on the real datasets in ../shared/data, on the default model:
 * zero-shot, each method after training, and each trained prompt's discrete projection.
 *   npm run results [-- --backend wasm|cpu] [--steps N] [--quick]
 * Writes docs/results/results.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { TrainConfig } from '../src/tuning/config';
import type { MethodKind } from '../src/tuning/methods/types';
import { loadCombined, loadDataset, majorityAccuracy, openModel, root, runExperiment, type ExperimentResult } from './experiment';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '300' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(root, 'docs', 'results') },
  },
});
const quick = values.quick;
const steps = quick ? 6 : Number(values.steps);
const datasets: { file: string; perClass: number | null }[] = quick
  ? [{ file: 'sms_spam.csv', perClass: 20 }, { file: 'combined', perClass: 8 }]
  : [{ file: 'sms_spam.csv', perClass: 750 }, { file: 'trec_test.csv', perClass: null }, { file: 'emotion_val.csv', perClass: null }, { file: 'combined', perClass: 80 }];
const methods: [MethodKind, Partial<TrainConfig>][] = [
  ['prompt', { learningRate: 0.1 }],
  ['ptuning-mlp', { learningRate: 0.01 }],
  ['ptuning-lstm', { learningRate: 0.01 }],
  ['prefix', { learningRate: 0.01 }],
  ['multitask', { learningRate: 0.1 }],
];

const session = await openModel(values.backend as 'wasm' | 'cpu');
const table: { dataset: string; rows: number; majority: number; results: Record<string, ExperimentResult> }[] = [];
const started = Date.now();
for (const { file, perClass } of datasets) {
  // "combined": all three datasets with a task column; multitask runs only there.
  const dataset = file === 'combined' ? loadCombined(perClass!, 0) : loadDataset(file, perClass, 0);
  const entry = { dataset: file, rows: dataset.examples.length, majority: majorityAccuracy(dataset), results: {} as Record<string, ExperimentResult> };
  for (const [method, extra] of methods) {
    if ((method === 'multitask') !== (file === 'combined') && method !== 'prompt') continue;
    const r = await runExperiment(session, dataset, {
      method, numVirtualTokens: 20, init: 'labels', optimizer: 'adamw', batchSize: quick ? 4 : 16, steps,
      warmupSteps: Math.min(10, steps - 1), maxLength: 64, evalEvery: steps, projectEvery: steps, checkpointEvery: steps,
      maxEvalExamples: quick ? 10 : 0, seed: 1, ...extra,
    });
    entry.results[method] = r;
    process.stderr.write(`${file} ${method}: zero-shot ${r.zeroShot.toFixed(3)} → ${r.trained.toFixed(3)} (discrete ${r.discrete?.toFixed(3) ?? '–'}), ${r.secondsPerStep.toFixed(2)} s/step\n`);
  }
  table.push(entry);
}
const minutes = (Date.now() - started) / 60000;
const lines = [
  `Validation accuracy on stories260K (int8), ${steps} steps, batch ${quick ? 4 : 16}, 20 virtual tokens, class-label init, AdamW, max length 64, ${values.backend} backend; ${minutes.toFixed(0)} min in all.`,
  '',
  'Each cell: the soft prompt\'s accuracy, then its discrete projection\'s. "combined" is all three datasets with a task column (80 rows per label); multitask runs there only, prompt tuning everywhere.',
  '',
  '| dataset (validation rows) | majority | zero-shot | ' + methods.map(([m]) => m).join(' | ') + ' |',
  '|---|---|---|' + methods.map(() => '---').join('|') + '|',
  ...table.map((t) => {
    const zero = Object.values(t.results)[0].zeroShot;
    const cells = methods.map(([m]) => {
      const r = t.results[m];
      if (!r) return '–';
      return `${r.trained.toFixed(3)} (discrete ${r.discrete === null ? '–' : r.discrete.toFixed(3)})`;
    });
    return `| ${t.dataset} (${Math.round(t.rows * 0.2)}) | ${t.majority.toFixed(3)} | ${zero.toFixed(3)} | ${cells.join(' | ')} |`;
  }),
  '',
];
const markdown = lines.join('\n');
mkdirSync(values.out!, { recursive: true });
const name = quick ? 'results-quick' : 'results';
writeFileSync(path.join(values.out!, `${name}.json`), JSON.stringify({ steps, backend: values.backend, minutes, table }, null, 2) + '\n');
writeFileSync(path.join(values.out!, `${name}.md`), markdown);
process.stdout.write(markdown);
session.dispose();
