/**
 * The sample datasets the Data step offers (public/samples/): they are what
 * scripts/make-samples.ts writes, and the importer reads each as a first-time user gets it —
 * text and label columns guessed, no row left out, no warning, every text once.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataset, DEFAULT_SPLIT, guessMapping, readCsv } from '../../src/data';

const root = path.resolve(import.meta.dirname, '..', '..');
const samples = path.join(root, 'public', 'samples');

const EXPECTED = {
  'spam.csv': { ham: 180, spam: 120 },
  'questions.csv': { question: 150, statement: 150 },
  'topics.csv': { animals: 100, food: 100, weather: 100 },
  'template.csv': { spam: 2, ham: 2 },
} as const;

describe('the sample datasets', () => {
  it('are exactly what scripts/make-samples.ts writes', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'samples-'));
    execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'make-samples.ts')], {
      env: { ...process.env, SAMPLES_OUT: out }, stdio: 'pipe',
    });
    for (const file of Object.keys(EXPECTED)) {
      expect(readFileSync(path.join(out, file)).equals(readFileSync(path.join(samples, file))), file).toBe(true);
    }
  }, 60_000);

  for (const [file, counts] of Object.entries(EXPECTED)) {
    it(`${file} loads as it is: text and label guessed, every row kept, every text once`, async () => {
      const table = await readCsv(new Uint8Array(readFileSync(path.join(samples, file))));
      expect(table.columns).toEqual(['text', 'label']);
      expect(table.problems).toEqual([]);
      expect(table.warnings).toEqual([]);
      const mapping = guessMapping(table);
      expect(mapping.textColumns).toEqual(['text']);
      expect(mapping.labelColumn).toBe('label');
      const dataset = buildDataset(table, mapping, DEFAULT_SPLIT);
      expect(dataset.rejected).toEqual([]);
      expect(dataset.warnings).toEqual([]);
      expect(Object.fromEntries(dataset.labels.map((l) => [l.name, l.count]))).toEqual(counts);
      const texts = table.rows.map((r) => r[0]);
      expect(new Set(texts).size).toBe(texts.length);
      // Short texts: every one fits the default max length with room to spare.
      expect(Math.max(...texts.map((t) => t.length))).toBeLessThan(200);
    });
  }
});
