import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { StudioEngine } from '../../src/engine/studio';
import type { EngineEvent } from '../../src/engine/api';
import type { ProgressPacing } from '../../src/engine/execution';
import { cutByMaxLength } from '../../src/tuning/tokenLengths';
import { hasSharedModel, packageDir } from '../helpers';
import { smsSample } from '../tuning/fixtures';

function csvBytes(rows: string[][], header = ['text', 'label']): Uint8Array {
  return new TextEncoder().encode(Papa.unparse([header, ...rows]));
}

async function engineWithModel(progressPacing?: ProgressPacing) {
  const events: EngineEvent[] = [];
  const engine = new StudioEngine((e) => events.push(e), { progressPacing });
  await engine.init('cpu');
  await engine.loadModel(folderSource(packageDir('stories260K')));
  return { engine, events };
}

describe.skipIf(!hasSharedModel)('StudioEngine', () => {
  it('runs the whole flow: table, mapping, baselines, training events, discrete projection, predictions', async () => {
    const { engine, events } = await engineWithModel();
    const table = await engine.loadTable('sms.csv', csvBytes(smsSample(20).rows));
    expect(table.rowCount).toBe(40);
    expect(table.guess.labelColumn).toBe('label');
    const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 1, splitColumn: null });
    expect(dataset.labels.map((l) => [l.name, l.count])).toEqual([['ham', 20], ['spam', 20]]);
    expect(dataset.verbalizer).toEqual({ ham: ' ham', spam: ' spam' });

    const info = await engine.startTraining({
      config: { steps: 6, batchSize: 4, numVirtualTokens: 3, maxLength: 24, evalEvery: 3, projectEvery: 2, checkpointEvery: 3 },
      verbalizer: dataset.verbalizer,
    });
    expect(info.trainCount + info.validationCount).toBe(40);
    const summary = await engine.waitForRun();
    expect(summary?.stoppedBy).toBe('completed');

    const of = <K extends EngineEvent['event']>(k: K) => events.filter((e): e is Extract<EngineEvent, { event: K }> => e.event === k);
    expect(of('baseline').map((b) => b.variant)).toEqual(['zero-shot', 'text']);
    expect(of('step').map((s) => s.step.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(of('evaluation').map((e) => [e.variant, e.evaluation.step])).toEqual([['soft', 3], ['soft', 6], ['discrete', 6]]);
    expect(of('projection').map((p) => p.projection.step)).toEqual([0, 2, 4, 6]);
    const projection = of('projection')[1].projection;
    expect(projection.projection.cosine).toHaveLength(3);
    expect(projection.projection.cosine[0].ids).toHaveLength(5);
    for (const id of projection.projection.cosine[0].ids) expect(typeof projection.tokens[id]).toBe('string');
    expect(of('trainingEnded')).toHaveLength(1);

    const predictions = await engine.predict(['WINNER!! Claim your free prize now', 'ok see you at home'], ['soft', 'zero-shot']);
    for (const p of predictions) {
      expect(p.probabilities.soft!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p.probabilities['zero-shot']).toHaveLength(2);
      expect(p.continuations).toBeUndefined();
    }
    // With a continuation: the same probabilities, and what the model writes after the template.
    const [continued] = await engine.predict(['WINNER!! Claim your free prize now'], ['soft', 'zero-shot'], 4);
    expect(continued.probabilities).toEqual(predictions[0].probabilities);
    expect(continued.continuations!.soft!.ids.length).toBeGreaterThan(0);
    const plain = await engine.session!.generate('WINNER!! Claim your free prize now\nLabel:', { maxNewTokens: 4 });
    expect(continued.continuations!['zero-shot']!.ids).toEqual(plain.generatedIds);
    await expect(engine.predict(['ok'], ['soft'], 65)).rejects.toThrow('A continuation is 0 to 64 tokens long, not 65.');
  });

  it('predicts for a multitask prompt\'s chosen task: its prompt, only its labels; another task number is refused', async () => {
    const { engine } = await engineWithModel();
    const spam = smsSample(8).rows.map(([text, label]) => [text, label, 'spam']);
    const mood = ['I love this sunny day', 'What a wonderful gift', 'This is great news', 'I am so glad you came',
      'I lost my keys again', 'The rain ruined the picnic', 'I feel awful today', 'Nothing went right'].flatMap((t, i) => [[t, i < 4 ? 'happy' : 'sad', 'mood']]);
    const table = await engine.loadTable('two-tasks.csv', csvBytes([...spam, ...mood, ...mood], ['text', 'label', 'task']));
    const dataset = engine.buildDataset({ ...table.guess, taskColumn: 'task' }, { validationFraction: 0.25, seed: 1, splitColumn: null });
    const info = await engine.startTraining({
      config: { method: 'multitask', steps: 3, batchSize: 4, numVirtualTokens: 3, maxLength: 24, evalEvery: 3 }, verbalizer: dataset.verbalizer,
    });
    await engine.waitForRun();
    expect(info.tasks).toHaveLength(2);
    const spamTask = info.tasks!.indexOf('spam');
    const spamLabels = info.taskLabels![spamTask].map((j) => info.labels[j]).sort();
    expect(spamLabels).toEqual(['ham', 'spam']);
    const [p] = await engine.predict(['WINNER!! Claim your free prize now'], ['soft', 'zero-shot'], 3, spamTask);
    info.labels.forEach((label, j) => {
      if (spamLabels.includes(label)) expect(p.probabilities.soft![j]).toBeGreaterThan(0);
      else expect(p.probabilities.soft![j]).toBe(0);
    });
    expect(p.probabilities.soft!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p.continuations!.soft!.ids.length).toBeGreaterThan(0);
    await expect(engine.predict(['ok'], ['soft'], 0, 2)).rejects.toThrow('This prompt has tasks 0 to 1, not 2.');
  });

  it('sends progress inside steps and evaluations once they have run quietMs, at most every intervalMs', async () => {
    const run = async (pacing: ProgressPacing) => {
      const { engine, events } = await engineWithModel(pacing);
      const table = await engine.loadTable('sms.csv', csvBytes(smsSample(12).rows));
      const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 1, splitColumn: null });
      await engine.startTraining({
        config: { steps: 2, batchSize: 4, numVirtualTokens: 2, maxLength: 24, evalEvery: 2, evalBatchSize: 2 }, verbalizer: dataset.verbalizer,
      });
      expect((await engine.waitForRun())?.stoppedBy).toBe('completed');
      return { events, layers: engine.session!.model.config.numLayers };
    };
    // Every report let through: each step's layers, in order, before the step itself; each evaluation's batches.
    const all = await run({ quietMs: 0, intervalMs: 0 });
    const order = all.events.flatMap((e) => e.event === 'stepProgress' ? [`progress ${e.progress.step}`] : e.event === 'step' ? [`step ${e.step.step}`] : []);
    const layers = 2 * all.layers;
    expect(order).toEqual([...new Array(layers).fill('progress 1'), 'step 1', ...new Array(layers).fill('progress 2'), 'step 2']);
    const scored = all.events.filter((e) => e.event === 'evaluationProgress');
    expect([...new Set(scored.map((e) => e.variant))].sort()).toEqual(['discrete', 'soft', 'text', 'zero-shot']);
    for (const variant of ['soft', 'zero-shot', 'text', 'discrete']) {
      const mine = scored.filter((e) => e.variant === variant);
      expect(mine.map((e) => e.done)).toEqual(Array.from({ length: Math.ceil(mine[0].total / 2) }, (_, i) => Math.min(mine[0].total, 2 * (i + 1))));
    }
    expect(scored.filter((e) => e.variant === 'soft').every((e) => e.step === 2)).toBe(true);
    // Work that ends before quietMs says nothing.
    const quiet = await run({ quietMs: 3_600_000, intervalMs: 0 });
    expect(quiet.events.filter((e) => e.event === 'stepProgress' || e.event === 'evaluationProgress')).toEqual([]);
    // At most one report per intervalMs.
    const paced = await run({ quietMs: 0, intervalMs: 3_600_000 });
    expect(paced.events.filter((e) => e.event === 'stepProgress')).toHaveLength(1);
  });

  it('pauses, resumes and stops a run in progress', async () => {
    const { engine, events } = await engineWithModel();
    const table = await engine.loadTable('sms.csv', csvBytes(smsSample(12).rows));
    const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 1, splitColumn: null });
    await engine.startTraining({ config: { steps: 500, batchSize: 2, numVirtualTokens: 2, maxLength: 16, evalEvery: 1000 }, verbalizer: dataset.verbalizer });
    const stepsSoFar = () => events.filter((e) => e.event === 'step').length;
    while (stepsSoFar() < 2) await new Promise((r) => setTimeout(r, 20));
    // Answered once the loop has stopped: the step in flight has landed, nothing comes after.
    await engine.pause();
    const paused = stepsSoFar();
    expect(events.at(-1)).toMatchObject({ event: 'trainingPhase', phase: 'paused' });
    const lastStep = events.filter((e) => e.event === 'step').at(-1);
    await new Promise((r) => setTimeout(r, 300));
    expect(stepsSoFar()).toBe(paused);
    const snapshot = await engine.exportCheckpoint();
    expect(snapshot.fileName).toContain(`-step${(lastStep as { step: { step: number } }).step.step}.checkpoint`);
    engine.resume();
    while (stepsSoFar() < paused + 3) await new Promise((r) => setTimeout(r, 20));
    engine.stop();
    const summary = await engine.waitForRun();
    expect(summary?.stoppedBy).toBe('user');
    expect(summary!.step).toBeLessThan(500);
  });

  it('exports validation predictions as CSV with formula-looking cells neutralized', async () => {
    const { engine } = await engineWithModel();
    const rows = smsSample(10).rows;
    rows[0] = ['=HYPERLINK("http://evil.example","click") win a prize', 'spam'];
    rows[11] = ['+44 call me back', 'ham'];
    const table = await engine.loadTable('evil.csv', csvBytes(rows));
    const dataset = engine.buildDataset(table.guess, { validationFraction: 0.5, seed: 2, splitColumn: null });
    await engine.startTraining({ config: { steps: 2, batchSize: 2, numVirtualTokens: 2, maxLength: 24, evalEvery: 2 }, verbalizer: dataset.verbalizer });
    await engine.waitForRun();
    const { csv, fileName } = engine.exportPredictions();
    expect(fileName).toBe('evil-predictions-step2.csv');
    const parsed = Papa.parse<string[]>(csv.trim()).data;
    expect(parsed[0]).toEqual(['line', 'text', 'label', 'predicted', 'correct', 'p(ham)', 'p(spam)']);
    expect(parsed.length - 1).toBe(dataset.validationCount);
    for (const row of parsed.slice(1)) expect(row[1]).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('counts the data in the model\'s tokens: the texts it says a max length cuts are the ones the run cuts', async () => {
    const { engine } = await engineWithModel();
    expect(() => engine.tokenLengths('{text}')).toThrow('No dataset is ready.');
    const table = await engine.loadTable('sms.csv', csvBytes(smsSample(20).rows));
    const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 1, splitColumn: null });
    const lengths = engine.tokenLengths('{text}\nLabel:');
    expect([lengths.train.length, lengths.validation.length]).toEqual([dataset.trainCount, dataset.validationCount]);
    const median = [...lengths.train, ...lengths.validation].sort((a, b) => a - b)[20];
    const cut = cutByMaxLength(lengths, median).cut;
    expect(cut).toBeGreaterThan(5);
    const info = await engine.startTraining({ config: { steps: 1, batchSize: 4, maxLength: median, maxEvalExamples: 4 }, verbalizer: dataset.verbalizer });
    expect(info.truncated).toBe(cut);
    engine.stop();
    await engine.waitForRun();
  });

  it('refuses bad settings with a plain message', async () => {
    const { engine } = await engineWithModel();
    const table = await engine.loadTable('sms.csv', csvBytes(smsSample(6).rows));
    const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 1, splitColumn: null });
    await expect(engine.startTraining({ config: { steps: 0 }, verbalizer: dataset.verbalizer })).rejects.toThrow('Steps must be between 1 and 1000000, got 0.');
    await expect(engine.startTraining({ config: { batchSize: 100 }, verbalizer: dataset.verbalizer })).rejects.toThrow('The batch size (100) is larger than the training split (8 examples).');
    await expect(engine.startTraining({ config: { learningRate: Number.NaN }, verbalizer: dataset.verbalizer })).rejects.toThrow('The learning rate must be a positive number, got NaN.');
    await expect(engine.startTraining({ config: { numVirtualTokens: 10000 }, verbalizer: dataset.verbalizer })).rejects.toThrow('Virtual tokens must be between 1 and 1000, got 10000.');
    await expect(engine.startTraining({ config: { maxLength: 4, batchSize: 2 }, verbalizer: dataset.verbalizer })).rejects.toThrow(/^The max length \(4 tokens\) is below the template's own length/);
  });
});
