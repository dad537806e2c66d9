import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../src/data/decode';
import { parseCsv, readCsv } from '../../src/data/csv';
import { buildDataset, defaultVerbalizer, guessMapping } from '../../src/data/examples';
import { countBy, hasSharedData, sharedDataDir } from './helpers';

if (!hasSharedData) {
  console.warn(`[tests/data] Skipping real-data tests: ${sharedDataDir} is not present (see /work/shared/data/README.md).`);
}

/** Counts as documented in ../shared/data/README.md. */
const FILES: Record<string, { rows: number; labels: Record<string, number> }> = {
  'sms_spam.csv': { rows: 5574, labels: { ham: 4827, spam: 747 } },
  'trec_test.csv': {
    rows: 500,
    labels: { abbreviation: 9, description: 138, entity: 94, human: 65, location: 81, numeric: 113 },
  },
  'emotion_val.csv': {
    rows: 2000,
    labels: { sadness: 550, joy: 704, love: 178, anger: 275, fear: 212, surprise: 81 },
  },
};

describe.skipIf(!hasSharedData)('real datasets in ../shared/data', () => {
  for (const [file, expected] of Object.entries(FILES)) {
    describe(file, () => {
      const load = () => readFileSync(path.join(sharedDataDir, file));

      it('parses with the documented row and label counts and no problems', async () => {
        const table = await readCsv(load());
        expect(table.encoding).toBe('utf-8');
        expect(table.delimiter).toBe(',');
        expect(table.hasHeader).toBe(true);
        expect(table.quoted).toBe(true);
        expect(table.columns).toEqual(['text', 'label']);
        expect(table.problems).toEqual([]);
        expect(table.rows).toHaveLength(expected.rows);
        expect(countBy(table.rows, (r) => r[1])).toEqual(expected.labels);
        // One physical line per row in these files (no quoted newlines), header on line 1.
        expect(table.lineNumbers[0]).toBe(2);
        expect(table.lineNumbers.at(-1)).toBe(expected.rows + 1);
      });

      it('guesses text and label, and builds a stratified dataset', () => {
        const table = parseCsv(decodeBytes(load()).text);
        const mapping = guessMapping(table);
        expect(mapping).toEqual({ textColumns: ['text'], labelColumn: 'label', taskColumn: null, splitColumn: null });
        const ds = buildDataset(table, mapping, { validationFraction: 0.2, seed: 0 });
        expect(ds.examples).toHaveLength(expected.rows);
        expect(ds.rejected).toEqual([]);
        expect(Object.fromEntries(ds.labels.map((l) => [l.name, l.count]))).toEqual(expected.labels);
        expect(ds.labels.map((l) => l.name)).toEqual(Object.keys(expected.labels).sort());
        for (const l of ds.labels) expect(Math.abs(l.validationCount - 0.2 * l.count)).toBeLessThanOrEqual(1);
        const verbalizer = defaultVerbalizer(ds.labels);
        expect(Object.keys(verbalizer).sort()).toEqual(Object.keys(expected.labels).sort());
      });
    });
  }

  it('sms_spam.csv: quirks survive verbatim (quotes, commas, C1 mojibake, duplicates)', () => {
    const decoded = decodeBytes(readFileSync(path.join(sharedDataDir, 'sms_spam.csv')));
    expect(decoded.warnings.some((w) => /U\+0080/.test(w))).toBe(true);
    const table = parseCsv(decoded.text);
    const texts = table.rows.map((r) => r[0]);
    expect(texts.filter((t) => t.startsWith('"'))).toHaveLength(54);
    expect(texts.filter((t) => t.includes('"'))).toHaveLength(145);
    expect(texts.filter((t) => t.includes(','))).toHaveLength(1322);
    expect(texts.filter((t) => t.includes('\u0092')).length).toBeGreaterThan(0);
    expect(Math.max(...texts.map((t) => t.length))).toBe(910);
    expect(texts.filter((t) => t === "Sorry, I'll call later")).toHaveLength(30);
    const ds = buildDataset(table, guessMapping(table));
    expect(ds.warnings.some((w) => /281 texts occur more than once \(403 extra copies\)/.test(w))).toBe(true);
  });

  it('emotion_val.csv: the two texts with conflicting labels are flagged', () => {
    const table = parseCsv(decodeBytes(readFileSync(path.join(sharedDataDir, 'emotion_val.csv'))).text);
    const ds = buildDataset(table, guessMapping(table));
    expect(ds.warnings.some((w) => /^2 texts have different labels/.test(w))).toBe(true);
  });

  it('the original SMS format (label<TAB>text, no header, raw quotes) reads back to the same 5574 rows', () => {
    const csv = parseCsv(decodeBytes(readFileSync(path.join(sharedDataDir, 'sms_spam.csv'))).text);
    const tsv = csv.rows.map(([text, label]) => `${label}\t${text}`).join('\n') + '\n';
    const t = parseCsv(tsv);
    expect(t.delimiter).toBe('\t');
    expect(t.quoted).toBe(false);
    expect(t.hasHeader).toBe(false);
    expect(t.problems).toEqual([]);
    expect(t.rows).toEqual(csv.rows.map(([text, label]) => [label, text]));
    const mapping = guessMapping(t);
    expect(mapping.labelColumn).toBe('column_1');
    expect(mapping.textColumns).toEqual(['column_2']);
  });
});
