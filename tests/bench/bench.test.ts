import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainingStepFlops } from '../../src/model/flops';
import { generationFlops, measureGeneration, promptOfLength } from '../../bench/generation';
import { runSoak, soakDataset, DEFAULT_SOAK } from '../../bench/soakCore';
import { dataDir, hasSharedModel, openDefault, tf } from '../helpers';

describe.skipIf(!hasSharedModel)('benchmark pieces (behaviour, not speed)', () => {
  it('prompts have exactly the asked length, start with BOS, and prefill FLOPs match the training-step count of a forward', async () => {
    const session = await openDefault('stories260K', 'cpu');
    for (const length of [1, 32, 256, 400]) {
      const ids = promptOfLength(session.tokenizer, length);
      expect(ids).toHaveLength(length);
      expect(ids[0]).toBe(session.tokenizer.bosId);
    }
    const cfg = session.model.config;
    const forward = trainingStepFlops(cfg, { batch: 1, sequence: 64, virtualTokens: 0, targets: 1 }).forward;
    expect(generationFlops(cfg, 64, 1)).toEqual({ prefill: forward, decode: 0 });
    // Decoding one more token costs one position against a context one longer.
    const a = generationFlops(cfg, 64, 3).decode;
    const b = generationFlops(cfg, 64, 4).decode;
    expect(b - a).toBe(generationFlops(cfg, 67, 1).prefill / 67 + 2 * cfg.hiddenSize * cfg.vocabSize * (1 - 1 / 67));
    session.dispose();
  });

  it('measureGeneration reports every prompt length, consistent rates and no leaked tensors', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const rows = await measureGeneration(session.model, session.tokenizer, { promptTokens: [8, 510], newTokens: 6, repeats: 1 });
    expect(rows.map((r) => r.promptTokens)).toEqual([8, 510]);
    // 510 + 6 would pass the model's 512 positions: the run is cut to fit.
    expect(rows.map((r) => r.newTokens)).toEqual([6, 2]);
    for (const r of rows) {
      expect(r.prefillTokensPerSecond).toBeCloseTo(r.promptTokens / (r.prefillMs / 1000), 6);
      expect(r.decodeTokensPerSecond).toBeCloseTo(1000 / r.decodeMsPerToken, 6);
      expect(r.decodeMsPerToken).toBeGreaterThan(0);
      expect(r.tensorsAfter).toBe(r.tensorsBefore);
    }
    session.dispose();
  });

  it.skipIf(!existsSync(path.join(dataDir, 'sms_spam.csv')))('a short soak samples memory and finds no growth, and disposing returns every tensor', async () => {
    const session = await openDefault('stories260K', 'cpu');
    const csv = readFileSync(path.join(dataDir, 'sms_spam.csv'), 'utf8');
    const before = tf.memory();
    const result = await runSoak(session.model, session.tokenizer, soakDataset(csv, 10), 'sms_spam.csv',
      { ...DEFAULT_SOAK, steps: 12, batchSize: 2, maxLength: 32, sampleEvery: 5 }, () => null, () => {});
    expect(result.samples.map((s) => s.step)).toEqual([0, 1, 5, 10, 12, -1]);
    expect(result.dataset).toEqual({ file: 'sms_spam.csv', trainRows: 16, validationRows: 4 });
    expect(result.verdict.tensorsGrew).toBe(false);
    expect(result.verdict.bytesGrew).toBe(false);
    // Too short to judge the heap: no sample after the first evaluation.
    expect(result.verdict.settledStep).toBeNull();
    expect(result.verdict.tensorsReturnedToStart).toBe(true);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    session.dispose();
  });
});
