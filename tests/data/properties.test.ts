import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../src/data/decode';
import { parseCsv, parseCsvAsync, type Delimiter } from '../../src/data/csv';
import { buildDataset } from '../../src/data/examples';
import { isStudioError } from '../../src/errors';

/** Characters that stress a CSV reader: delimiters, quotes, every line end, spaces, non-ASCII, astral. */
const tricky = fc.constantFrom(',', ';', '\t', '|', '"', '""', '\n', '\r', '\r\n', ' ', 'a', 'Z', '7', 'é', 'ß', '中', '😀', '\u0092', '\u00a0');
const cellOf = (chars: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.array(chars, { maxLength: 12 }).map((cs) => cs.join('')) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  );

/** RFC 4180 writer: quote a field when it holds a delimiter, a quote or a line break. */
function writeCsv(rows: string[][], delimiter: string, newline: string): string {
  const needs = new RegExp(`[${delimiter === '\t' ? '\\t' : delimiter === '|' ? '\\|' : delimiter}"\\r\\n]`);
  return rows.map((r) => r.map((c) => (needs.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(delimiter)).join(newline);
}

function lineBreaks(text: string): number {
  return (text.match(/\r\n|\r|\n/g) ?? []).length;
}

const tableArb = fc.integer({ min: 2, max: 4 }).chain((width) =>
  fc.record({
    width: fc.constant(width),
    rows: fc.array(fc.array(cellOf(tricky), { minLength: width, maxLength: width }), { minLength: 1, maxLength: 25 }),
    delimiter: fc.constantFrom<Delimiter>(',', ';', '\t', '|'),
    newline: fc.constantFrom('\n', '\r\n', '\r'),
    trailingNewline: fc.boolean(),
  }),
);

describe('properties', () => {
  it('RFC 4180 tables round-trip cell for cell, with correct line numbers', () => {
    fc.assert(
      fc.property(tableArb, ({ width, rows, delimiter, newline, trailingNewline }) => {
        const header = Array.from({ length: width }, (_, i) => `col${i}`);
        const written = [header, ...rows].map((r) => writeCsv([r], delimiter, newline));
        const text = written.join(newline) + (trailingNewline ? newline : '');
        const t = parseCsv(text, { delimiter, hasHeader: true });
        expect(t.problems).toEqual([]);
        expect(t.columns).toEqual(header);
        expect(t.rows).toEqual(rows);
        let line = 1 + lineBreaks(written[0]) + 1;
        const expectedLines = rows.map((_, i) => {
          const at = line;
          line += lineBreaks(written[i + 1]) + 1;
          return at;
        });
        expect(t.lineNumbers).toEqual(expectedLines);
      }),
      { numRuns: 400 },
    );
  });

  it('with detection: comma CSV with a text,label header is recognised and read back exactly', () => {
    // Cells avoid the other delimiters so that the comma is the only sensible reading.
    const chars = fc.constantFrom(',', '"', '\n', '\r\n', ' ', 'a', 'b', 'é', '😀', 'x y');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(cellOf(chars), cellOf(chars)).map(([a, b]) => [a, b]), { minLength: 1, maxLength: 30 }),
        fc.constantFrom('\n', '\r\n'),
        (rows, newline) => {
          fc.pre(rows.every((r) => r.every((c) => !/[;\t|]/.test(c) && c.trim() !== 'text' && c.trim() !== 'label')));
          const text = writeCsv([['text', 'label'], ...rows], ',', newline) + newline;
          const t = parseCsv(text);
          expect(t.delimiter).toBe(',');
          expect(t.hasHeader).toBe(true);
          expect(t.columns).toEqual(['text', 'label']);
          expect(t.rows).toEqual(rows);
          expect(t.problems).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('chunked parsing equals one-shot parsing for any chunk boundary', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, fc.integer({ min: 1024, max: 2048 }), async ({ width, rows, delimiter, newline }, chunkSize) => {
        const header = Array.from({ length: width }, (_, i) => `c${i}`);
        // Repeat rows so the text spans several small windows.
        const many = Array.from({ length: 40 }, () => rows).flat();
        const text = writeCsv([header, ...many], delimiter, newline);
        const sync = parseCsv(text, { delimiter, hasHeader: true });
        const chunked = await parseCsvAsync(text, { delimiter, hasHeader: true, chunkSize });
        expect(chunked).toEqual(sync);
        expect(sync.rows).toEqual(many);
      }),
      { numRuns: 60 },
    );
  });

  it('arbitrary bytes: decode + parse either succeed or throw StudioError', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // Text-like bytes with quotes and delimiters hit the parser rather than the binary check.
      fc.array(fc.constantFrom(0x22, 0x2c, 0x3b, 0x09, 0x0a, 0x0d, 0x61, 0x20, 0xe9, 0xc3, 0xa9, 0xff, 0xfe, 0x00, 0x7c), { maxLength: 300 }).map(
        (a) => Uint8Array.from(a),
      ),
    );
    fc.assert(
      fc.property(bytesArb, fc.option(fc.boolean(), { nil: undefined }), (bytes, hasHeader) => {
        try {
          const t = parseCsv(decodeBytes(bytes).text, { hasHeader });
          expect(t.rows.length).toBe(t.lineNumbers.length);
          for (const r of t.rows) expect(r.length).toBe(t.columns.length);
          expect(new Set(t.columns).size).toBe(t.columns.length);
        } catch (e) {
          if (!isStudioError(e)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the split is stratified and deterministic for arbitrary label distributions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 2, maxLength: 200 }),
        fc.double({ min: 0.01, max: 0.9, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (labels, fraction, seed) => {
          fc.pre(new Set(labels).size >= 2);
          const table = {
            columns: ['text', 'label'],
            rows: labels.map((l, i) => [`t${i}`, l]),
            lineNumbers: labels.map((_, i) => i + 2),
            delimiter: ',' as const,
            hasHeader: true,
            quoted: true,
            problems: [],
            warnings: [],
          };
          const mapping = { textColumns: ['text'], labelColumn: 'label', taskColumn: null, splitColumn: null };
          let d;
          try {
            d = buildDataset(table, mapping, { validationFraction: fraction, seed });
          } catch (e) {
            // Only possible when every label has a single example.
            expect(isStudioError(e)).toBe(true);
            return;
          }
          const again = buildDataset(table, mapping, { validationFraction: fraction, seed });
          expect(again.examples.map((e) => e.split)).toEqual(d.examples.map((e) => e.split));
          for (const l of d.labels) {
            if (l.count >= 2) {
              expect(l.validationCount).toBeGreaterThanOrEqual(1);
              expect(l.trainCount).toBeGreaterThanOrEqual(1);
              expect(Math.abs(l.validationCount - l.count * fraction)).toBeLessThanOrEqual(1);
            } else {
              expect(l.validationCount).toBe(0);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
