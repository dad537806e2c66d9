/**
 * The first training loss of a run as the page's worker would make it, on wasm in Node:
 * the same StudioEngine, model folder, CSV (columns guessed, default split), settings
 * (DEFAULT_TRAIN_CONFIG plus the given ones, as the page's settings store holds them) and
 * the dataset's default verbalizer. For e2e/real-size.spec.ts, which trains the same run on
 * WebGPU in Chromium and compares.
 *
 *   npx tsx tests/real-size/engineFirstLoss.ts --model DIR --data FILE.csv --settings '{"numVirtualTokens":2,…}'
 *
 * Prints one JSON line: {"firstLoss": …, "backend": "wasm", "seconds": …}.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SPLIT } from '../../src/data';
import { folderSource } from '../../src/cli/nodeSource';
import { StudioEngine } from '../../src/engine/studio';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/tuning/config';

const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, settings: { type: 'string', default: '{}' } } });
if (!values.model || !values.data) throw new Error('--model and --data are required');
const started = performance.now();
let firstLoss: number | null = null;
let failure: string | null = null;
const engine = new StudioEngine((e) => {
  if (e.event === 'step' && e.step.step === 1) firstLoss = e.step.loss;
  if (e.event === 'trainingError') failure = e.error.message;
});
await engine.init('wasm');
await engine.loadModel(folderSource(values.model));
const table = await engine.loadTable(path.basename(values.data), new Uint8Array(readFileSync(values.data)));
const dataset = engine.buildDataset(
  { textColumns: table.guess.textColumns, labelColumn: table.guess.labelColumn, taskColumn: table.guess.taskColumn, splitColumn: table.guess.splitColumn },
  { ...DEFAULT_SPLIT, splitColumn: table.guess.splitColumn },
);
const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...(JSON.parse(values.settings!) as Partial<TrainConfig>) };
await engine.startTraining({ config, verbalizer: dataset.verbalizer });
await engine.waitForRun();
if (failure) throw new Error(failure);
if (firstLoss === null) throw new Error('the run ended without a first step');
process.stdout.write(JSON.stringify({ firstLoss, backend: engine.backend?.backend, seconds: (performance.now() - started) / 1000 }) + '\n');
process.exit(0);
