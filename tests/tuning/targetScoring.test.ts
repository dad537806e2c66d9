import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildDataset, defaultVerbalizer, labelsLookLikeFreeText, type ParsedTable } from '../../src/data';
import { continueAfter } from '../../src/engine/predictions';
import { resolveScoring, validateTrainConfig } from '../../src/tuning/config';
import { Evaluator } from '../../src/tuning/evaluator';
import { PromptTuning } from '../../src/tuning/methods/prompt';
import { batchLoss, methodPrompt, readTargetScores, scoreLabels, targetScores } from '../../src/tuning/objective';
import { prepareTask } from '../../src/tuning/task';
import { createRng } from '../../src/data/random';
import { hasSharedModel, openDefault } from '../helpers';
import { smsTask } from './fixtures';

/** A table of n rows, `text i` → label `label i % distinct`. */
function table(n: number, distinct: number): ParsedTable {
  const rows = Array.from({ length: n }, (_, i) => [`text ${i}`, `label ${i % distinct}`]);
  return asTable(rows);
}

function asTable(rows: string[][]): ParsedTable {
  return { columns: ['text', 'label'], rows, lineNumbers: rows.map((_, i) => i + 2), delimiter: ',', hasHeader: true, quoted: true, problems: [], warnings: [] };
}

describe('free-text labels', () => {
  it('are told from classes by their number and share of the rows', () => {
    expect(labelsLookLikeFreeText(2, 10_000)).toBe(false);
    expect(labelsLookLikeFreeText(77, 10_000)).toBe(false); // banking77-like: many classes, each repeated
    expect(labelsLookLikeFreeText(32, 40)).toBe(false); // up to 32 labels are always ranked
    expect(labelsLookLikeFreeText(33, 40)).toBe(true);
    expect(labelsLookLikeFreeText(141, 240)).toBe(true);
    expect(labelsLookLikeFreeText(100, 500)).toBe(false); // five rows a label on average: classes
    expect(labelsLookLikeFreeText(101, 500)).toBe(true);
  });

  it('split at random, not by label: every target unique still leaves a validation split, with no warning per target', () => {
    const unique = buildDataset(table(100, 100), { textColumns: ['text'], labelColumn: 'label', taskColumn: null, splitColumn: null }, { validationFraction: 0.2, seed: 3 });
    expect(unique.examples.filter((e) => e.split === 'validation')).toHaveLength(20);
    expect(unique.warnings.join(' ')).not.toMatch(/only one example/);
    // Classes are still stratified: each of 4 labels puts 5 of its 25 rows into validation.
    const classes = buildDataset(table(100, 4), { textColumns: ['text'], labelColumn: 'label', taskColumn: null, splitColumn: null }, { validationFraction: 0.2, seed: 3 });
    for (let c = 0; c < 4; c++) expect(classes.examples.filter((e) => e.label === `label ${c}` && e.split === 'validation')).toHaveLength(5);
  });

  it("'auto' scoring is settled from the data; a chosen one stays", () => {
    expect(resolveScoring('auto', 141, 240)).toBe('target');
    expect(resolveScoring('auto', 2, 240)).toBe('rank');
    expect(resolveScoring('rank', 141, 240)).toBe('rank');
    expect(resolveScoring('target', 2, 240)).toBe('target');
    const facts = { trainExamples: 192, tasks: 0, labels: 141, rows: 240 };
    expect(validateTrainConfig({}, facts).scoring).toBe('target');
    expect(validateTrainConfig({ scoring: 'rank' }, facts).scoring).toBe('rank');
    expect(validateTrainConfig({}, { trainExamples: 192, tasks: 0 }).scoring).toBe('auto'); // labels unknown: left to the task
    expect(() => validateTrainConfig({ scoring: 'exact' as never })).toThrow('Unknown scoring "exact".');
  });
});

describe.skipIf(!hasSharedModel)('target scoring', () => {
  it("scores each example against its own target as rank scoring scores that label, and writes as greedy decoding does", async () => {
    const session = await openDefault('stories260K-f32', 'cpu');
    const { task } = smsTask(session, 10);
    const examples = task.validation.slice(0, 4);
    const d = session.pkg.config.hiddenSize;
    const rng = createRng(9);
    const method = new PromptTuning(Float32Array.from({ length: 4 * d }, () => rng.next() - 0.5), 4, d);
    for (const prompt of [null, methodPrompt(method)]) {
      const greedy = await Promise.all(examples.map((e) => continueAfter(session.model, session.tokenizer, prompt, e.inputIds, 3)));
      const other = (id: number) => (id + 1) % session.pkg.config.vocabSize;
      // Targets greedy writes (whole, or its first token) and ones it does not (last or first token changed).
      const targets = [greedy[0].ids, greedy[1].ids.slice(0, 1), [...greedy[2].ids.slice(0, 2), other(greedy[2].ids[2])], [other(greedy[3].ids[0]), greedy[3].ids[1]]];
      const own = examples.map((e, i) => ({ ...e, label: i, targetIds: targets[i] }));
      const scored = await readTargetScores(targetScores(session.model, prompt, own));
      expect(scored.writes).toEqual([true, true, false, false]);
      const ranked = await scoreLabels(session.model, prompt, own, targets);
      own.forEach((_, i) => {
        expect(scored.logLikelihood[i]).toBeCloseTo(ranked.logLikelihood[i][i], 4);
        expect(scored.writes[i]).toBe(ranked.writes[i][i]);
        const meanNll = tf.tidy(() => batchLoss(session.model, prompt, [own[i]]).dataSync()[0]);
        expect(scored.logLikelihood[i]).toBeCloseTo(-meanNll * targets[i].length, 4);
      });
    }
    method.dispose();
  });

  it('an evaluation of free-text targets: exact match and the targets\' loss, no label ranked, no confusion matrix', async () => {
    const session = await openDefault('stories260K-f32', 'cpu');
    // 80 story openings, each target the model's own 3-token continuation (so zero-shot writes it) for the
    // even rows, and a changed one for the odd rows.
    const openings = Array.from({ length: 80 }, (_, i) => `${i < 40 ? 'Once upon a time' : 'One day'}, there was a ${['little', 'big', 'happy', 'sad', 'red'][i % 5]} ${['girl', 'boy', 'dog', 'cat', 'bird', 'tree', 'car', 'ball'][i % 8]} named`);
    const template = '{text}';
    const encoded = openings.map((t) => session.tokenizer.encode(t, { addBos: true }));
    const greedy = await Promise.all(encoded.map((ids) => continueAfter(session.model, session.tokenizer, null, ids, 3)));
    const labels = greedy.map((g, i) => (i % 2 === 0 ? g.text : `${g.text} zz${i}`).trim());
    const rows = openings.map((t, i) => [t, labels[i]]);
    const dataset = buildDataset(asTable(rows), { textColumns: ['text'], labelColumn: 'label', taskColumn: null, splitColumn: null }, { validationFraction: 0.5, seed: 1 });
    const config = validateTrainConfig({ template, maxLength: 32, evalBatchSize: 8 }, { trainExamples: 40, tasks: 0, labels: dataset.labels.length, rows: 80 });
    expect(config.scoring).toBe('target');
    const setup = { template, verbalizer: defaultVerbalizer(dataset.labels), maxLength: 32, truncateSide: 'right' as const, scoring: config.scoring };
    const task = prepareTask(session.tokenizer, dataset, setup, session.pkg.config.maxPositions, 0);
    expect(task.scoring).toBe('target');
    const evaluator = new Evaluator(session.model, session.tokenizer, task, config);
    const evaluation = await evaluator.evaluate(null, task.validation);
    // What greedy decoding writes, one example at a time: the target's tokens first?
    const writes = await Promise.all(task.validation.map(async (e) => {
      const g = await continueAfter(session.model, session.tokenizer, null, e.inputIds, e.targetIds.length);
      return e.targetIds.every((id, j) => g.ids[j] === id);
    }));
    expect(writes.filter(Boolean).length).toBeGreaterThan(0);
    expect(writes.filter((w) => !w).length).toBeGreaterThan(0);
    expect(evaluation.report.accuracy).toBeCloseTo(writes.filter(Boolean).length / writes.length, 10);
    expect(evaluation.generationAccuracy).toBe(evaluation.report.accuracy);
    expect(evaluation.predictions).toEqual(task.validation.map((e, i) => (writes[i] ? e.label : -1)));
    expect(evaluation.report.confusion).toEqual([]);
    expect(evaluation.report.perClass).toEqual([]);
    expect(evaluation.probabilities.every((p) => p.length === 0)).toBe(true);
    // The loss: mean negative log-likelihood per target token, as training's batchLoss computes it.
    const tokens = task.validation.reduce((a, e) => a + e.targetIds.length, 0);
    const nll = task.validation.reduce((a, e) => a + e.targetIds.length * tf.tidy(() => batchLoss(session.model, null, [e]).dataSync()[0]), 0);
    expect(evaluation.loss).toBeCloseTo(nll / tokens, 4);
    expect(evaluation.targetLogLikelihood).toHaveLength(task.validation.length);
    // No instruction to try for free text without an init text: the text baseline is skipped.
    expect(evaluator.baselineInstruction('')).toBe('');
    expect(evaluator.baselineInstruction('Name the character.')).toBe('Name the character.');
  });
});
