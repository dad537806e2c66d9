/**
 * What `train` and `train --dry-run` say of a large model's run before its first step
 * (cli/commands/trainPlan.ts): the estimate line, from the data's lengths and the memory
 * plan. The default model stands in for a large one (the engine's largeModelFrom option,
 * as the page's test hook does), so the line is printed and checked here.
 */
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../src/cli/commands/trainPlan';
import { folderSource } from '../../src/cli/nodeSource';
import { StudioEngine } from '../../src/engine/studio';
import { validateTrainConfig } from '../../src/tuning/config';
import { estimateCpuRun } from '../../src/tuning/runEstimate';
import { hasSharedModel, packageDir } from '../helpers';
import { smsSample } from '../tuning/fixtures';

describe.skipIf(!hasSharedModel)('train --dry-run on a model taken as large', () => {
  it('prints the estimate at the data\'s lengths with the plan\'s recomputation, in words and in its JSON', async () => {
    const engine = new StudioEngine(() => {}, { largeModelFrom: { parameters: 0 } });
    await engine.init('wasm');
    const facts = await engine.loadModel(folderSource(packageDir('stories260K')));
    expect(facts.stepSpeed).toBeTruthy();
    const sample = smsSample(20);
    const table = await engine.loadTable('sms.csv', new TextEncoder().encode(Papa.unparse([sample.columns, ...sample.rows])));
    const dataset = engine.buildDataset(table.guess, { validationFraction: 0.25, seed: 1, splitColumn: null });
    const config = validateTrainConfig({ steps: 6, batchSize: 4, maxLength: 32, evalEvery: 1000 }, { trainExamples: dataset.trainCount, tasks: 0 });
    let out = '';
    let err = '';
    dryRun(engine, facts, config, dataset.verbalizer, dataset, { out: (t) => (out += t), err: (t) => (err += t) });

    const printed = JSON.parse(out) as { estimate: { stepMs: number; evaluationMs: number; evaluations: number; meanBatchWidth: number }; memory: { mlpRecompute: number } };
    const expected = estimateCpuRun(facts.stepSpeed!.dims, facts.stepSpeed!.matmulFlopsPerSecond, config, dataset.validationCount,
      engine.tokenLengths(config.template, Infinity), printed.memory.mlpRecompute);
    expect(printed.estimate).toEqual(JSON.parse(JSON.stringify(expected)));
    // Most texts of the SMS sample run past 32 tokens: nearly every batch is as wide as the max length and the label, padded.
    expect(printed.estimate.meanBatchWidth).toBeGreaterThan(39.9);
    expect(printed.estimate.meanBatchWidth).toBeLessThanOrEqual(40);
    expect(printed.estimate.evaluations).toBe(4);
    const line = err.split('\n').find((l) => l.startsWith('estimated before the first step'));
    expect(line).toMatch(new RegExp(`^estimated before the first step: about ${(expected.stepMs / 1000).toFixed(1)} s a step at this data's lengths `
      + '\\(batches about 40 tokens wide\\), about \\d+ s for the 6 steps to go, and about \\d+ s for the run\'s 4 evaluations of 10 examples '
      + '\\(this machine\'s matmul: \\d+ GFLOP/s\\)$'));
  });
});
