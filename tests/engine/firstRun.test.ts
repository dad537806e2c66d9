/**
 * What a first run needs from the engine (cpu backend, the default model): training starts
 * at once and the baselines come beside it; evaluations come early; a pause and a stop
 * leave a checkpoint of exactly their step; the export names the base model Python can
 * load and the step of every score; the base model downloads in Hugging Face layout.
 */
import { strFromU8, unzipSync } from 'fflate';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { baseModelFolder, pythonBaseModel } from '../../src/engine/adapters';
import type { EngineEvent } from '../../src/engine/api';
import { StudioEngine } from '../../src/engine/studio';
import { parseSafetensors, toFloat32 } from '../../src/formats/safetensors';
import { hasSharedModel, packageDir } from '../helpers';
import { smsSample } from '../tuning/fixtures';

function csvBytes(rows: string[][]): Uint8Array {
  return new TextEncoder().encode(Papa.unparse([['text', 'label'], ...rows]));
}

async function engineWithData() {
  const events: EngineEvent[] = [];
  const engine = new StudioEngine((e) => events.push(e));
  await engine.init('cpu');
  await engine.loadModel(folderSource(packageDir('stories260K')));
  const table = await engine.loadTable('sms.csv', csvBytes(smsSample(16).rows));
  const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 3, splitColumn: null });
  return { engine, events, dataset };
}

const of = <K extends EngineEvent['event']>(events: EngineEvent[], k: K) =>
  events.filter((e): e is Extract<EngineEvent, { event: K }> => e.event === k);

const small = { batchSize: 4, numVirtualTokens: 3, maxLength: 24, projectEvery: 100, checkpointEvery: 100, seed: 5 };

describe.skipIf(!hasSharedModel)('a first run through the engine', () => {
  it('trains at once, evaluates early (at 4 and 10 for every 20), and scores the baselines after the first evaluation', async () => {
    const { engine, events, dataset } = await engineWithData();
    await engine.startTraining({ config: { ...small, steps: 12, evalEvery: 20 }, verbalizer: dataset.verbalizer });
    await engine.waitForRun();
    const index = (e: EngineEvent) => events.indexOf(e);
    const firstStep = of(events, 'step')[0];
    const baselines = of(events, 'baseline');
    // No baseline phase before training: the first step, and the first evaluation, come before any baseline …
    expect(of(events, 'trainingPhase').map((p) => p.phase)).toEqual(['training', 'finishing', 'done']);
    expect(baselines.map((b) => [b.variant, b.evaluation.step])).toEqual([['zero-shot', 0], ['text', 0]]);
    expect(index(firstStep)).toBeLessThan(index(baselines[0]));
    expect(index(of(events, 'evaluation')[0])).toBeLessThan(index(baselines[0]));
    // … and they all arrive before the run ends.
    expect(index(baselines[1])).toBeLessThan(index(of(events, 'trainingEnded')[0]));
    expect(of(events, 'evaluation').map((e) => [e.variant, e.evaluation.step])).toEqual([['soft', 4], ['soft', 10], ['soft', 12], ['discrete', 12]]);
    // Scored on the same examples as the soft prompt, from the frozen model alone.
    expect(baselines[0].evaluation.examples).toBe(of(events, 'evaluation')[0].evaluation.examples);
  });

  it('a pause leaves a checkpoint of the paused step, a stop one of the last', async () => {
    const { engine, events, dataset } = await engineWithData();
    await engine.startTraining({ config: { ...small, steps: 500, evalEvery: 1000 }, verbalizer: dataset.verbalizer });
    while (of(events, 'step').length < 2) await new Promise((r) => setTimeout(r, 20));
    await engine.pause();
    const paused = of(events, 'step').at(-1)!.step.step;
    // The checkpoint comes before "paused", so the page's "Paused at step N" is already saved.
    const beforePaused = events.slice(0, events.findLastIndex((e) => e.event === 'trainingPhase' && e.phase === 'paused'));
    expect(of(beforePaused, 'checkpoint').at(-1)!.step).toBe(paused);
    engine.resume();
    while (of(events, 'step').length < paused + 2) await new Promise((r) => setTimeout(r, 20));
    engine.stop();
    const summary = await engine.waitForRun();
    expect(summary?.stoppedBy).toBe('user');
    expect(of(events, 'checkpoint').at(-1)!.step).toBe(summary!.step);
  });

  it('exports an adapter Python loads beside the base model: the folder it names, PEFT\'s init, each score\'s step', async () => {
    const { engine, dataset } = await engineWithData();
    await engine.startTraining({ config: { ...small, steps: 6, evalEvery: 4 }, verbalizer: dataset.verbalizer });
    await engine.waitForRun();
    const session = engine.session!;
    expect(baseModelFolder(session)).toBe('stories260K');
    expect(pythonBaseModel(session)).toBe('stories260K');

    const files = unzipSync((await engine.exportAdapter()).bytes);
    const config = JSON.parse(strFromU8(files['adapter_config.json']));
    expect(config.base_model_name_or_path).toBe('stories260K');
    expect(config.tokenizer_name_or_path).toBe('stories260K');
    // Class-label init has no PEFT counterpart: RANDOM, as PEFT could make it.
    expect(config.prompt_tuning_init).toBe('RANDOM');
    expect(config.prompt_tuning_init_text).toBeNull();
    const metrics = JSON.parse(strFromU8(files['studio.json'])).metrics;
    expect(metrics).toMatchObject({ step: 6, validation_step: 6, 'zero-shot_step': 0, text_step: 0, discrete_step: 6, examples: 8 });
    expect(metrics.majority_accuracy).toBe(0.5);
    const card = strFromU8(files['README.md']);
    expect(card).toContain('base = "stories260K"  # the base model\'s folder (Export → "Download base model"), here');
    expect(card).toContain('adapter = "."  # this folder');
    expect(card).toContain('`stories260K/config.json` sits beside this README');
    expect(card).toContain('write it here from a terminal with\n`npm run cli -- base-model --model <the model\'s folder> --out stories260K`, so that');
    expect(card).toContain('"Download base model" gives exactly those weights, dequantized to float32, so PEFT scores as the studio does.');
    expect(card).toContain('| the soft prompt | ');
    // accuracy, macro-F1, how often greedy writes the label, loss, the step
    expect(card).toContain('| prompt | accuracy | macro-F1 | writes the label (greedy) | loss | measured at step |');
    expect(card).toMatch(/\| the soft prompt \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| 6 \|/);
    expect(card).toMatch(/\| zero-shot \(the model, no prompt\) \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| 0 \|/);

    // The base model: one folder of that name, Hugging Face layout, float32, the int8 weights dequantized.
    const base = await engine.exportBaseModel();
    expect(base.fileName).toBe('stories260K.zip');
    expect(base.blob.type).toBe('application/zip');
    const bytes = new Uint8Array(await base.blob.arrayBuffer());
    const zipped = unzipSync(bytes);
    expect(Object.keys(zipped).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `stories260K/${f}`));
    const baseConfig = JSON.parse(strFromU8(zipped['stories260K/config.json']));
    expect(baseConfig).not.toHaveProperty('quantization_config');
    expect(baseConfig).toMatchObject({ architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 64, torch_dtype: 'float32', tie_word_embeddings: true });
    const weights = parseSafetensors(zipped['stories260K/model.safetensors']);
    const names = [...weights.tensors.keys()];
    expect(names.some((n) => n.endsWith('_scale'))).toBe(false);
    expect(names).toContain('model.layers.0.self_attn.q_proj.weight');
    for (const t of weights.tensors.values()) expect(t.dtype).toBe('F32');
    const q = toFloat32(weights.tensors.get('model.layers.0.self_attn.q_proj.weight')!);
    const expected = (await session.hostPackage()).weights.float('model.layers.0.self_attn.q_proj.weight').data;
    expect(q).toEqual(expected);
    expect(strFromU8(zipped['stories260K/tokenizer.json'])).toBe(`${JSON.stringify(session.pkg.tokenizerJson)}\n`);
    // The same model gives the same bytes.
    expect(new Uint8Array(await (await engine.exportBaseModel()).blob.arrayBuffer())).toEqual(bytes);
  });
});
