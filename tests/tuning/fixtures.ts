import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildDataset, defaultVerbalizer, guessMapping, parseCsv, type ParsedTable } from '../../src/data';
import type { ModelSession } from '../../src/engine/session';
import { validateTrainConfig, type TrainConfig } from '../../src/tuning/config';
import type { MethodKind } from '../../src/tuning/methods/types';
import { prepareTask, type PreparedTask } from '../../src/tuning/task';
import { dataDir } from '../helpers';

/** Every method, with the settings under which it trains well on the small SMS task. */
export const METHOD_CASES: [MethodKind, Partial<TrainConfig>][] = [
  ['prompt', {}],
  ['ptuning-mlp', { learningRate: 0.01 }],
  ['ptuning-lstm', { learningRate: 0.01, encoderNumLayers: 1 }],
  ['prefix', { learningRate: 0.01 }],
  ['multitask', {}],
];

/** A balanced sample of the real SMS spam data (first n of each class), as a parsed table. */
export function smsSample(perClass: number): ParsedTable {
  const table = parseCsv(readFileSync(path.join(dataDir, 'sms_spam.csv'), 'utf8'));
  const ham = table.rows.filter((r) => r[1] === 'ham').slice(0, perClass);
  const spam = table.rows.filter((r) => r[1] === 'spam').slice(0, perClass);
  const rows = [...ham, ...spam];
  return { ...table, rows, lineNumbers: rows.map((_, i) => i + 2) };
}

export function smsTask(session: ModelSession, perClass: number, overrides: Partial<TrainConfig> = {}): { task: PreparedTask; config: TrainConfig } {
  const table = smsSample(perClass);
  const dataset = buildDataset(table, guessMapping(table), { validationFraction: 0.25, seed: 1 });
  const config = validateTrainConfig({ maxLength: 32, batchSize: 8, steps: 20, evalEvery: 1000, projectEvery: 1000, checkpointEvery: 1000, ...overrides });
  const task = prepareTask(session.tokenizer, dataset, {
    template: config.template, verbalizer: defaultVerbalizer(dataset.labels), maxLength: config.maxLength, truncateSide: config.truncateSide,
  }, session.pkg.config.maxPositions, config.numVirtualTokens);
  return { task, config };
}
