/**
 * The engine's files, end to end on the default model (cpu backend): resumable checkpoints
 * (N + resume + M steps is the uninterrupted N+M run), the exported adapter zip imported
 * back into a fresh engine, and the prompt library's mixed batches.
 */
import { strFromU8, unzipSync } from 'fflate';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { StudioEngine } from '../../src/engine/studio';
import type { EngineEvent } from '../../src/engine/api';
import { parseSafetensors } from '../../src/formats/safetensors';
import { hasSharedModel, packageDir } from '../helpers';
import { checkpointDir } from '../model/checkpoints';
import { smsSample } from '../tuning/fixtures';

function csvBytes(rows: string[][], header = ['text', 'label']): Uint8Array {
  return new TextEncoder().encode(Papa.unparse([header, ...rows]));
}

async function engineWithData(rows = smsSample(16).rows) {
  const events: EngineEvent[] = [];
  const engine = new StudioEngine((e) => events.push(e));
  await engine.init('cpu');
  await engine.loadModel(folderSource(packageDir('stories260K')));
  const table = await engine.loadTable('sms.csv', csvBytes(rows));
  const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 3, splitColumn: null });
  return { engine, events, dataset, table };
}

const of = <K extends EngineEvent['event']>(events: EngineEvent[], k: K) =>
  events.filter((e): e is Extract<EngineEvent, { event: K }> => e.event === k);

const settings = { batchSize: 4, numVirtualTokens: 3, maxLength: 24, evalEvery: 4, projectEvery: 100, checkpointEvery: 4, seed: 11 };

describe.skipIf(!hasSharedModel)('checkpoints, export and import through the engine', () => {
  it('N steps, then resume from the checkpoint for M more, gives the losses of N+M uninterrupted', async () => {
    for (const method of ['prompt', 'ptuning-mlp'] as const) {
      const whole = await engineWithData();
      await whole.engine.startTraining({ config: { ...settings, method, steps: 8 }, verbalizer: whole.dataset.verbalizer });
      await whole.engine.waitForRun();
      const wholeLosses = of(whole.events, 'step').map((s) => s.step.loss);

      const first = await engineWithData();
      await first.engine.startTraining({ config: { ...settings, method, steps: 4 }, verbalizer: first.dataset.verbalizer });
      await first.engine.waitForRun();
      const checkpoints = of(first.events, 'checkpoint');
      expect(checkpoints.at(-1)!.step).toBe(4);

      // A fresh engine (a reloaded page) continues from the bytes alone.
      const second = await engineWithData();
      const info = await second.engine.startTraining({
        config: { steps: 8 }, verbalizer: { ham: 'something else', spam: 'ignored' }, resumeFrom: checkpoints.at(-1)!.bytes,
      });
      expect(info.startStep).toBe(4);
      expect(info.config.method).toBe(method);
      expect(info.verbalizer).toEqual(first.dataset.verbalizer);
      await second.engine.waitForRun();
      // A resumed run does not recompute the baselines.
      expect(of(second.events, 'baseline')).toHaveLength(0);
      const resumed = [...of(first.events, 'step'), ...of(second.events, 'step')].map((s) => s.step.loss);
      expect(of(second.events, 'step').map((s) => s.step.step)).toEqual([5, 6, 7, 8]);
      expect(resumed).toHaveLength(8);
      resumed.forEach((loss, i) => expect(loss).toBeCloseTo(wholeLosses[i], 5));
    }
  });

  it('refuses a checkpoint of another model or another split, naming both', async () => {
    const run = await engineWithData();
    await run.engine.startTraining({ config: { ...settings, steps: 4 }, verbalizer: run.dataset.verbalizer });
    await run.engine.waitForRun();
    const bytes = of(run.events, 'checkpoint').at(-1)!.bytes;

    const otherSplit = await engineWithData();
    otherSplit.engine.buildDataset(otherSplit.table.guess, { validationFraction: 0.5, seed: 3, splitColumn: null });
    await expect(otherSplit.engine.startTraining({ config: {}, verbalizer: run.dataset.verbalizer, resumeFrom: bytes }))
      .rejects.toThrow('The checkpoint was trained on a different split of the data (24 training / 8 validation examples; now 16 / 16).');

    // The float package quantizes on load to the very same int8 weights, so it is the same model…
    const float = new StudioEngine(() => {});
    await float.init('cpu');
    await float.loadModel(folderSource(packageDir('stories260K-f32')));
    await float.loadTable('sms.csv', csvBytes(smsSample(16).rows));
    float.buildDataset(run.table.guess, { validationFraction: 0.25, seed: 3, splitColumn: null });
    expect((await float.startTraining({ config: {}, verbalizer: run.dataset.verbalizer, resumeFrom: bytes })).startStep).toBe(4);
    float.stop();
    await float.waitForRun();

    // …while another checkpoint is not.
    const other = new StudioEngine(() => {});
    await other.init('cpu');
    await other.loadModel(folderSource(checkpointDir('llama')));
    await other.loadTable('sms.csv', csvBytes(smsSample(16).rows));
    other.buildDataset(run.table.guess, { validationFraction: 0.25, seed: 3, splitColumn: null });
    await expect(other.startTraining({ config: {}, verbalizer: run.dataset.verbalizer, resumeFrom: bytes }))
      .rejects.toThrow(/^This checkpoint was trained on the model karpathy\/tinyllamas\/stories260K \(llama, 5 layers, d=64, F32\+I8 weights\) \[[0-9a-f]{12}\], but the loaded model is .+ \(llama, \d+ layers, d=\d+, F32\+I8 weights\) \[[0-9a-f]{12}\]\.$/);
  });

  it('exports a PEFT zip that a fresh engine imports and predicts with exactly as the trained run', async () => {
    for (const method of ['prompt', 'prefix', 'ptuning-lstm'] as const) {
      const run = await engineWithData();
      await run.engine.startTraining({ config: { ...settings, method, steps: 4 }, verbalizer: run.dataset.verbalizer });
      await run.engine.waitForRun();
      const { fileName, bytes } = await run.engine.exportAdapter();
      expect(fileName).toBe(`sms-${method}-step4.zip`);
      const files = unzipSync(bytes);
      expect(Object.keys(files).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'checkpoint.safetensors', 'studio.json']);
      const config = JSON.parse(strFromU8(files['adapter_config.json']));
      // Not a hub model: the folder "Download base model" writes, which the card loads.
      expect(config.base_model_name_or_path).toBe('stories260K');
      expect(config.num_virtual_tokens).toBe(3);
      const studio = JSON.parse(strFromU8(files['studio.json']));
      expect(studio.labels).toEqual(['ham', 'spam']);
      expect(studio.metrics.step).toBe(4);
      expect(typeof studio.metrics.validation_accuracy).toBe('number');
      expect(typeof studio.metrics['zero-shot_accuracy']).toBe('number');
      expect(parseSafetensors(files['checkpoint.safetensors']).metadata.step).toBe('4');

      const texts = ['WINNER!! You have won a free prize, call now', 'see you at lunch tomorrow'];
      const trained = await run.engine.predict(texts, ['soft']);

      const fresh = new StudioEngine(() => {});
      await fresh.init('cpu');
      await fresh.loadModel(folderSource(packageDir('stories260K')));
      const info = await fresh.importAdapter({ fileName, zip: bytes });
      expect(info).toMatchObject({
        fromStudio: true, fingerprintMatches: true, hasCheckpoint: true, labels: ['ham', 'spam'], numVirtualTokens: 3, evaluable: false,
      });
      const imported = await fresh.predict(texts, ['soft']);
      imported.forEach((p, i) => p.probabilities.soft!.forEach((x, j) => expect(x).toBeCloseTo(trained[i].probabilities.soft![j], 5)));
      // Exported again from the import: the same adapter weights.
      const again = await fresh.exportAdapter();
      expect(again.fileName).toBe(fileName);
      const againFiles = unzipSync(again.bytes);
      for (const name of Object.keys(files)) expect([name, strFromU8(againFiles[name])]).toEqual([name, strFromU8(files[name])]);
      expect(again.bytes).toEqual(bytes);
    }
  });

  it('imports a plain PEFT adapter folder with the loaded data\'s labels, and refuses one for another model', async () => {
    const run = await engineWithData();
    await run.engine.startTraining({ config: { ...settings, steps: 2 }, verbalizer: run.dataset.verbalizer });
    await run.engine.waitForRun();
    const files = await run.engine.exportAdapterFiles();
    const plain = new Map([...files].filter(([name]) => name.startsWith('adapter_')).map(([n, b]) => [`my-adapter/${n}`, b]));

    const bare = new StudioEngine(() => {});
    await bare.init('cpu');
    await bare.loadModel(folderSource(packageDir('stories260K')));
    await expect(bare.importAdapter({ fileName: 'my-adapter', files: plain }))
      .rejects.toThrow('my-adapter has no studio.json, so the studio does not know which labels it predicts.');

    const info = await run.engine.importAdapter({ fileName: 'my-adapter', files: plain, fallback: { verbalizer: run.dataset.verbalizer } });
    expect(info).toMatchObject({ fromStudio: false, fingerprintMatches: null, labels: ['ham', 'spam'], evaluable: true });
    const evaluation = await run.engine.evaluate('soft');
    expect(evaluation.examples).toBe(8);
    // Evaluated on demand, an imported prompt's validation predictions download as for a trained one.
    const predictions = run.engine.exportPredictions();
    expect(predictions.fileName).toBe('sms-predictions-step0.csv');
    expect(Papa.parse<string[]>(predictions.csv.trim()).data).toHaveLength(1 + 8);

    const config = JSON.parse(strFromU8(files.get('adapter_config.json')!));
    config.token_dim = 128;
    const wrong = new Map(plain);
    wrong.set('my-adapter/adapter_config.json', new TextEncoder().encode(JSON.stringify(config)));
    await expect(run.engine.importAdapter({ fileName: 'wrong', files: wrong })).rejects.toThrow(/token_dim.*128.*64|64.*128/);
  });

  it('keeps prompts in a library and predicts rows that name their prompts in mixed batches', async () => {
    const run = await engineWithData();
    await run.engine.startTraining({ config: { ...settings, steps: 3, seed: 1 }, verbalizer: run.dataset.verbalizer });
    await run.engine.waitForRun();
    const a = await run.engine.addToLibrary('spam-a');
    await expect(run.engine.addToLibrary('spam-a')).rejects.toThrow('The library already has a prompt named "spam-a".');
    const texts = ['WINNER!! free prize, call now', 'see you at lunch', 'URGENT claim your reward', 'ok thanks'];
    const soloA = await run.engine.predict(texts, ['soft']);

    await run.engine.startTraining({ config: { ...settings, method: 'prefix', steps: 3, seed: 2 }, verbalizer: { ham: ' fine', spam: ' bad' } });
    await run.engine.waitForRun();
    const b = await run.engine.addToLibrary('spam-b');
    const soloB = await run.engine.predict(texts, ['soft']);

    await run.engine.startTraining({ config: { ...settings, steps: 3, seed: 3 }, verbalizer: run.dataset.verbalizer });
    await run.engine.waitForRun();
    await run.engine.addToLibrary('spam-c');
    const soloC = await run.engine.predict(texts, ['soft']);
    expect(run.engine.listLibrary().map((e) => [e.name, e.method])).toEqual([['spam-a', 'prompt'], ['spam-b', 'prefix'], ['spam-c', 'prompt']]);

    // Interleaved rows: a and c share batches (same shape), b goes with the prefixes.
    const rows = texts.flatMap((text) => [{ text, prompt: 'spam-a' }, { text, prompt: b.id }, { text, prompt: 'spam-c' }]);
    rows.push({ text: 'hello', prompt: 'nope' });
    const mixed = await run.engine.predictRows(rows, 5);
    const solo = { 'spam-a': soloA, 'spam-b': soloB, 'spam-c': soloC };
    texts.forEach((_, i) => {
      (['spam-a', 'spam-b', 'spam-c'] as const).forEach((name, k) => {
        const r = mixed[i * 3 + k];
        if (!r.ok) throw new Error(r.error);
        expect(r.prompt).toBe(name);
        expect(r.probabilities.ham).toBeCloseTo(solo[name][i].probabilities.soft![0], 5);
        expect(r.probabilities.spam).toBeCloseTo(solo[name][i].probabilities.soft![1], 5);
      });
    });
    expect(mixed.at(-1)).toEqual({ ok: false, error: 'No prompt named "nope" in the library.' });

    const csv = Papa.unparse([['message', 'prompt'], ['=cmd|calc', 'spam-a'], ['hi there', 'spam-b'], ['x', 'missing']]);
    const out = await run.engine.batchPredict({ fileName: 'batch.csv', bytes: new TextEncoder().encode(csv), textColumn: 'message', promptColumn: 'prompt' });
    expect(out).toMatchObject({ fileName: 'batch-predictions.csv', rows: 3, failed: 1 });
    const parsed = Papa.parse<string[]>(out.csv.trim()).data;
    expect(parsed[0]).toEqual(['line', 'text', 'prompt', 'task', 'predicted', 'p(ham)', 'p(spam)', 'error']);
    expect(parsed[1][1]).toBe("'=cmd|calc");
    expect(parsed[3].at(-1)).toBe('No prompt named "missing" in the library.');
    run.engine.removeFromLibrary(a.id);
    expect(run.engine.listLibrary().map((e) => e.name)).toEqual(['spam-b', 'spam-c']);
  });
});
