/**
 * Property: `train` with any settings the settings table accepts ends either with a
 * trained adapter or with one of our plain errors, never with "Internal error" or a crash
 * of the backend. The settings are drawn from the table itself (its types, choices and
 * bounds), narrowed to tiny sizes so a run takes seconds (few steps, small batches and
 * lengths): the memory a huge batch × length takes is the memory model's to refuse.
 * STUDIO_PROPERTY_LOG=1 prints each drawn command line and how it ended.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import type { SerializedError } from '../../src/errors';
import { SETTINGS, SETTING_KEYS, type SettingSpec, type TrainConfig } from '../../src/tuning/config';
import { hasSharedModel, packageDir } from '../helpers';

const ready = hasSharedModel && existsSync(path.join(packageDir('stories260K'), 'model.safetensors'));

/** Upper bounds for the draw where the table allows far more than a test can run quickly. */
const TINY: Partial<Record<keyof TrainConfig, number>> = {
  numVirtualTokens: 8, batchSize: 8, steps: 3, warmupSteps: 4, evalEvery: 3, projectEvery: 3, checkpointEvery: 3, maxLength: 48,
  encoderHiddenSize: 32, encoderNumLayers: 2, numRanks: 4, gradientAccumulation: 2, earlyStoppingPatience: 2, maxEvalExamples: 8,
  evalBatchSize: 8, projectionTopK: 10, weightDecay: 1, maxGradNorm: 5,
};

/** A value the table accepts for one setting, as its CLI flag takes it. */
function valueOf(key: keyof TrainConfig, spec: SettingSpec): fc.Arbitrary<string> {
  switch (spec.type) {
    case 'integer':
      return fc.integer({ min: Math.max(spec.min, Number.MIN_SAFE_INTEGER), max: Math.min(spec.max, TINY[key] ?? spec.max) }).map(String);
    case 'number': {
      const max = Math.min(spec.max ?? Number.MAX_VALUE, TINY[key] ?? Number.MAX_VALUE);
      return fc.double({ min: spec.min, max, noNaN: true, minExcluded: spec.minExclusive ?? false }).map(String);
    }
    case 'choice':
      return fc.constantFrom(...spec.choices.map((c) => c.value));
    case 'boolean':
      return fc.boolean().map(String);
    case 'text':
      if (key === 'template') {
        // Any text around {text}, the one thing the table asks of a template.
        return fc.tuple(fc.string({ maxLength: 30, unit: 'grapheme' }), fc.string({ maxLength: 30, unit: 'grapheme' })).map(([a, b]) => `${a}{text}${b}`);
      }
      return fc.oneof(fc.string({ maxLength: 40, unit: 'grapheme' }), fc.constant('Classify whether the message is spam. '.repeat(30)));
  }
}

/** Each setting given or left to its default; those with a tiny bound always given (their defaults are full size). */
const settings = fc.record(
  Object.fromEntries(SETTING_KEYS.map((key) => {
    const value = valueOf(key, SETTINGS[key] as SettingSpec);
    return [key, key in TINY ? value : fc.option(value, { nil: undefined, freq: 2 })];
  })) as Record<keyof TrainConfig, fc.Arbitrary<string | undefined>>,
);

describe.skipIf(!ready)('train with random accepted settings', () => {
  let dir: string;
  let csv: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'studio-cli-properties-'));
    csv = path.join(dir, 'tasks.csv');
    // Two tasks of two labels each, so multitask prompt tuning has its task column.
    const rows = Array.from({ length: 24 }, (_, i) => {
      const task = i % 2 ? 'mood' : 'spam';
      const label = task === 'mood' ? (i % 4 === 1 ? 'happy' : 'sad') : (i % 4 === 0 ? 'spam' : 'ham');
      return `"message ${i} about ${label} things",${label},${task}`;
    });
    writeFileSync(csv, ['text,label,task', ...rows].join('\n'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('never ends in "Internal error": a trained adapter or one plain error', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(settings, async (drawn) => {
        const out = path.join(dir, `run-${run++}`);
        const flags = Object.entries(drawn).filter(([, v]) => v !== undefined)
          .map(([key, v]) => `--${SETTINGS[key as keyof TrainConfig].flag}=${v}`);
        let err = '';
        let error: SerializedError | null = null;
        const started = Date.now();
        if (process.env.STUDIO_PROPERTY_LOG) process.stderr.write(`train ${flags.join(' ')}\n`);
        const code = await runCli(['train', `--data=${csv}`, ...flags, `--out=${out}`], { out: () => {}, err: (t) => (err += t), onError: (e) => (error = e) });
        const failed = error as SerializedError | null;
        if (process.env.STUDIO_PROPERTY_LOG) process.stderr.write(`  → ${code} in ${Date.now() - started} ms ${failed?.message ?? ''}\n`);
        expect(err, `train ${flags.join(' ')}`).not.toContain('Internal error');
        if (code === 0) {
          expect(existsSync(path.join(out, 'adapter_model.safetensors'))).toBe(true);
        } else {
          expect(failed?.code, `train ${flags.join(' ')}: ${failed?.message}`).not.toBe('internal');
          expect(err.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
        }
      }),
      { numRuns: 6 },
    );
  }, 900_000);
});
