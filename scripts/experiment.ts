/**
 * Shared pieces of the results and ablation commands: load a real dataset from
 * ../shared/data, sample it the same way every time, train one configuration in Node and
 * report zero-shot, trained and discrete-projection accuracy.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDataset, defaultVerbalizer, guessMapping, parseCsv, type Dataset } from '../src/data';
import { createRng, shuffleInPlace } from '../src/data/random';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import { folderSource } from '../src/cli/nodeSource';
import { validateTrainConfig, type TrainConfig } from '../src/tuning/config';
import { prepareTask } from '../src/tuning/task';
import { RunControl } from '../src/tuning/control';
import { Trainer } from '../src/tuning/trainer';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const dataDir = path.join(process.env.STUDIO_SHARED_DIR ?? path.resolve(root, '..', 'shared'), 'data');

export async function openModel(backend: BackendName, id = 'stories260K'): Promise<ModelSession> {
  return ModelSession.open(folderSource(path.join(root, 'public', 'models', id)), await selectBackend(backend));
}

/**
 * A dataset from ../shared/data, optionally balanced: at most `perClass` rows of each label,
 * chosen by a fixed seed, then split 80/20 stratified.
 */
export function loadDataset(file: string, perClass: number | null, seed = 0): Dataset {
  const full = path.join(dataDir, file);
  if (!existsSync(full)) throw new Error(`${full} is missing: the experiments read the real datasets from ../shared/data.`);
  const table = parseCsv(readFileSync(full, 'utf8'));
  let rows = table.rows;
  if (perClass !== null) {
    const byLabel = new Map<string, string[][]>();
    for (const r of rows) byLabel.set(r[1], [...(byLabel.get(r[1]) ?? []), r]);
    const rng = createRng(seed);
    rows = [...byLabel.values()].flatMap((group) => shuffleInPlace([...group], rng).slice(0, perClass));
  }
  const sampled = { ...table, rows, lineNumbers: rows.map((_, i) => i + 2) };
  return buildDataset(sampled, guessMapping(sampled), { validationFraction: 0.2, seed });
}

/**
 * The three datasets as one, with a task column naming each row's dataset: the setting
 * multitask prompt tuning is for (one frozen model, one shared prompt, many tasks).
 */
export function loadCombined(perClass: number, seed = 0): Dataset {
  const rows: string[][] = [];
  const rng = createRng(seed);
  for (const [file, task] of [['sms_spam.csv', 'sms'], ['trec_test.csv', 'trec'], ['emotion_val.csv', 'emotion']]) {
    const table = parseCsv(readFileSync(path.join(dataDir, file), 'utf8'));
    const byLabel = new Map<string, string[][]>();
    for (const r of table.rows) byLabel.set(r[1], [...(byLabel.get(r[1]) ?? []), r]);
    for (const group of byLabel.values()) for (const r of shuffleInPlace([...group], rng).slice(0, perClass)) rows.push([r[0], r[1], task]);
  }
  const table = { ...parseCsv('text,label,task\na,b,c\n'), rows, lineNumbers: rows.map((_, i) => i + 2) };
  return buildDataset(table, { textColumns: ['text'], labelColumn: 'label', taskColumn: 'task', splitColumn: null }, { validationFraction: 0.2, seed });
}

export interface ExperimentResult {
  zeroShot: number;
  trained: number;
  discrete: number | null;
  bestStep: number | null;
  seconds: number;
  secondsPerStep: number;
}

export async function runExperiment(session: ModelSession, dataset: Dataset, overrides: Partial<TrainConfig>, log = false): Promise<ExperimentResult> {
  const trainCount = dataset.examples.filter((e) => e.split === 'train').length;
  const config = validateTrainConfig(overrides, { trainExamples: trainCount, tasks: dataset.tasks.length });
  const task = prepareTask(session.tokenizer, dataset, {
    template: config.template, verbalizer: defaultVerbalizer(dataset.labels), maxLength: config.maxLength, truncateSide: config.truncateSide,
  }, session.pkg.config.maxPositions, config.numVirtualTokens);
  const trainer = await Trainer.create(session.model, session.tokenizer, task, config);
  try {
    const zeroShot = (await trainer.evaluate(null)).report.accuracy;
    const started = performance.now();
    let best = -1;
    const summary = await trainer.run(new RunControl(), {
      onEvaluation: (e) => {
        best = Math.max(best, e.report.accuracy);
        if (log) process.stderr.write(`  step ${e.step}: accuracy ${e.report.accuracy.toFixed(3)} loss ${e.loss.toFixed(3)}\n`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const trained = (await trainer.evaluate()).report.accuracy;
    const discrete = await trainer.projector.discrete(trainer.method);
    return {
      zeroShot,
      trained,
      discrete: discrete ? (await trainer.evaluate(discrete.source)).report.accuracy : null,
      bestStep: summary.bestStep,
      seconds,
      secondsPerStep: seconds / Math.max(1, summary.step),
    };
  } finally {
    trainer.dispose();
  }
}

/** Accuracy of always answering each task's most frequent validation label. */
export function majorityAccuracy(dataset: Dataset): number {
  const validation = dataset.examples.filter((e) => e.split === 'validation');
  const counts = new Map<string, Map<string, number>>();
  for (const e of validation) {
    const task = counts.get(e.task ?? '') ?? new Map<string, number>();
    task.set(e.label, (task.get(e.label) ?? 0) + 1);
    counts.set(e.task ?? '', task);
  }
  let correct = 0;
  for (const task of counts.values()) correct += Math.max(...task.values());
  return correct / validation.length;
}
