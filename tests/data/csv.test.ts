import { describe, expect, it } from 'vitest';
import { parseCsv, parseCsvAsync, readCsv, looksLikeHeader } from '../../src/data/csv';
import { isStudioError } from '../../src/errors';
import { studioErrorOf, utf8 } from './helpers';

describe('parseCsv: line ends', () => {
  const expected = [
    ['hello, world', 'pos'],
    ['bye', 'neg'],
  ];
  it.each([
    ['CRLF', '\r\n'],
    ['LF', '\n'],
    ['lone CR', '\r'],
  ])('reads %s files with correct line numbers', (_name, nl) => {
    const text = ['text,label', '"hello, world",pos', 'bye,neg', ''].join(nl);
    const t = parseCsv(text);
    expect(t.columns).toEqual(['text', 'label']);
    expect(t.rows).toEqual(expected);
    expect(t.lineNumbers).toEqual([2, 3]);
    expect(t.hasHeader).toBe(true);
    expect(t.delimiter).toBe(',');
    expect(t.problems).toEqual([]);
    expect(t.warnings).toEqual([]);
  });

  it('normalises mixed line ends (with a warning) and keeps counting lines', () => {
    const t = parseCsv('text,label\r\na,pos\nb,neg\rc,pos\r\n');
    expect(t.rows).toEqual([
      ['a', 'pos'],
      ['b', 'neg'],
      ['c', 'pos'],
    ]);
    expect(t.lineNumbers).toEqual([2, 3, 4]);
    expect(t.warnings.some((w) => /line-end styles/.test(w))).toBe(true);
  });

  it('does not treat Excel-style LF inside quoted CRLF rows as mixing', () => {
    const t = parseCsv('text,label\r\n"first line\nsecond line",pos\r\nnext,neg\r\n');
    expect(t.rows).toEqual([
      ['first line\nsecond line', 'pos'],
      ['next', 'neg'],
    ]);
    expect(t.lineNumbers).toEqual([2, 4]);
    expect(t.warnings).toEqual([]);
  });

  it('skips blank lines without losing line numbers', () => {
    const t = parseCsv('\ntext,label\n\na,pos\n   \nb,neg\n\n');
    expect(t.rows).toEqual([
      ['a', 'pos'],
      ['b', 'neg'],
    ]);
    expect(t.lineNumbers).toEqual([4, 6]);
    expect(t.problems).toEqual([]);
  });
});

describe('parseCsv: delimiters', () => {
  it('detects semicolons even when texts contain commas', () => {
    const t = parseCsv('text;label\nyes, it works;pos\nno, it does not, really;neg\nfine;pos\n');
    expect(t.delimiter).toBe(';');
    expect(t.columns).toEqual(['text', 'label']);
    expect(t.rows[1]).toEqual(['no, it does not, really', 'neg']);
    expect(t.problems).toEqual([]);
  });

  it('detects tabs', () => {
    const t = parseCsv('id\ttext\tlabel\n1\tone, two; three\ta\n2\tfour | five\tb\n');
    expect(t.delimiter).toBe('\t');
    expect(t.columns).toEqual(['id', 'text', 'label']);
    expect(t.rows).toEqual([
      ['1', 'one, two; three', 'a'],
      ['2', 'four | five', 'b'],
    ]);
  });

  it('detects pipes', () => {
    const t = parseCsv('text|label\nhello, there; you|x\nbye, now|y\n');
    expect(t.delimiter).toBe('|');
    expect(t.rows).toEqual([
      ['hello, there; you', 'x'],
      ['bye, now', 'y'],
    ]);
  });

  it('prefers the delimiter that gives a consistent column count', () => {
    // papaparse alone may pick the comma here; only the semicolon splits every row the same way.
    const lines = ['text;label'];
    for (let i = 0; i < 30; i++) lines.push(i % 2 ? `a, b, c ${i};x` : `plain ${i};y`);
    const t = parseCsv(lines.join('\n'));
    expect(t.delimiter).toBe(';');
    expect(t.rows).toHaveLength(30);
    expect(t.problems).toEqual([]);
  });

  it('honours an explicit delimiter and rejects unsupported ones', () => {
    const t = parseCsv('a;b,c\nx;y,z\n', { delimiter: ',', hasHeader: false });
    expect(t.rows).toEqual([
      ['a;b', 'c'],
      ['x;y', 'z'],
    ]);
    studioErrorOf(() => parseCsv('a:b\n', { delimiter: ':' as never }), 'settings');
  });

  it('honours and skips an Excel "sep=" line, keeping line numbers', () => {
    const t = parseCsv('sep=;\r\ntext;label\r\na, b;x\r\nc;y\r\n');
    expect(t.delimiter).toBe(';');
    expect(t.columns).toEqual(['text', 'label']);
    expect(t.rows).toEqual([
      ['a, b', 'x'],
      ['c', 'y'],
    ]);
    expect(t.lineNumbers).toEqual([3, 4]);
    studioErrorOf(() => parseCsv('sep=,\n'), 'csv');
  });

  it('reads a one-column file as one column (with a warning)', () => {
    const t = parseCsv('just some text\nmore text here\nand more\n', { hasHeader: false });
    expect(t.columns).toEqual(['column_1']);
    expect(t.rows).toHaveLength(3);
    expect(t.warnings.some((w) => /single column/.test(w))).toBe(true);
  });
});

describe('parseCsv: quotes', () => {
  it('keeps line numbers right after quoted fields with newlines', () => {
    const text = [
      'text,label',
      '"line one',
      'line two",pos',
      'plain,neg',
      '"a',
      'b, with comma',
      'c ""quoted""",pos',
      'last,neg',
    ].join('\n');
    const t = parseCsv(text);
    expect(t.rows).toEqual([
      ['line one\nline two', 'pos'],
      ['plain', 'neg'],
      ['a\nb, with comma\nc "quoted"', 'pos'],
      ['last', 'neg'],
    ]);
    expect(t.lineNumbers).toEqual([2, 4, 5, 8]);
    expect(t.problems).toEqual([]);
  });

  it('reports an unterminated quote as a row problem and reads the following lines', () => {
    const text = 'text,label\nok one,pos\n"broken,neg\nnext fine,pos\n"quoted, fine",neg\n';
    const t = parseCsv(text);
    expect(t.problems).toHaveLength(1);
    expect(t.problems[0].line).toBe(3);
    expect(t.problems[0].reason).toMatch(/quote/);
    expect(t.rows).toEqual([
      ['ok one', 'pos'],
      ['next fine', 'pos'],
      ['quoted, fine', 'neg'],
    ]);
    expect(t.lineNumbers).toEqual([2, 4, 5]);
    expect(t.quoted).toBe(true);
  });

  it('reports an unterminated quote on the last line', () => {
    const t = parseCsv('text,label\na,pos\nb,neg\n"never closed,pos');
    expect(t.rows).toHaveLength(2);
    expect(t.problems.map((p) => p.line)).toEqual([4]);
  });

  it('accepts a stray quote inside a quoted field on one line, with a warning', () => {
    const t = parseCsv('text,label\n"she said "hi" to me",pos\nok,neg\n');
    expect(t.rows[0]).toEqual(['she said "hi" to me', 'pos']);
    expect(t.problems).toEqual([]);
    expect(t.warnings.some((w) => /stray double quote/.test(w))).toBe(true);
  });

  it('reads quotes as plain characters in raw TSV files that clearly do not use CSV quoting', () => {
    const lines = [];
    for (let i = 0; i < 40; i++) {
      lines.push(i % 5 === 0 ? `ham\t"Quoted" start ${i}, then more` : `spam\tplain ${i} "with" quotes`);
    }
    const t = parseCsv(lines.join('\n') + '\n');
    expect(t.delimiter).toBe('\t');
    expect(t.quoted).toBe(false);
    expect(t.hasHeader).toBe(false);
    expect(t.rows).toHaveLength(40);
    expect(t.rows[0]).toEqual(['ham', '"Quoted" start 0, then more']);
    expect(t.problems).toEqual([]);
    expect(t.warnings.some((w) => /ordinary characters/.test(w))).toBe(true);
  });

  it('skips a runaway quote in a large file without losing the rest', () => {
    const lines = ['text,label', 'first,pos', '"opened and never closed,neg'];
    for (let i = 0; i < 40_000; i++) lines.push(`row number ${i} with some words,${i % 2 ? 'pos' : 'neg'}`);
    const t = parseCsv(lines.join('\n'));
    expect(t.problems.map((p) => p.line)).toEqual([3]);
    expect(t.rows).toHaveLength(40_001);
    expect(t.lineNumbers[1]).toBe(4);
    expect(t.lineNumbers.at(-1)).toBe(40_003);
  });
});

describe('parseCsv: rows and columns', () => {
  it('turns ragged rows into row problems, never dropping them silently', () => {
    const t = parseCsv('text,label\na,pos\nb,neg,extra\nc\nd,pos,\ne,neg\n');
    expect(t.rows).toEqual([
      ['a', 'pos'],
      ['d', 'pos'],
      ['e', 'neg'],
    ]);
    expect(t.lineNumbers).toEqual([2, 5, 6]);
    expect(t.problems.map((p) => p.line)).toEqual([3, 4]);
    expect(t.problems[0].reason).toMatch(/3 fields, but the table has 2 columns/);
    expect(t.problems[1].reason).toMatch(/1 field, but the table has 2 columns/);
    expect(t.warnings.some((w) => /trailing comma/.test(w))).toBe(true);
  });

  it('makes duplicate and empty column names unique, with warnings', () => {
    const t = parseCsv('text,text,,label\nx,y,z,pos\nu,v,w,neg\n');
    expect(t.hasHeader).toBe(true);
    expect(t.columns).toEqual(['text', 'text_2', 'column_3', 'label']);
    expect(t.warnings.some((w) => /"text" → "text_2"/.test(w))).toBe(true);
    expect(t.warnings.some((w) => /column_3/.test(w))).toBe(true);
  });

  it('avoids clashes when renaming', () => {
    const t = parseCsv('a,a,a_2\n1,2,3\n', { hasHeader: true });
    expect(t.columns).toEqual(['a', 'a_3', 'a_2']);
  });

  it('detects a missing header and names columns column_1…', () => {
    const t = parseCsv('I loved this film,pos\nTerrible acting,neg\nGreat fun,pos\nBoring,neg\n');
    expect(t.hasHeader).toBe(false);
    expect(t.columns).toEqual(['column_1', 'column_2']);
    expect(t.rows).toHaveLength(4);
    expect(t.lineNumbers).toEqual([1, 2, 3, 4]);
  });

  it('lets the user override header detection', () => {
    const text = 'foo,bar\nhi,x\nho,y\n';
    expect(parseCsv(text, { hasHeader: true }).columns).toEqual(['foo', 'bar']);
    const t = parseCsv(text, { hasHeader: false });
    expect(t.columns).toEqual(['column_1', 'column_2']);
    expect(t.rows).toHaveLength(3);
  });

  it('throws for a header-only file', () => {
    const err = studioErrorOf(() => parseCsv('text,label\r\n'), 'csv');
    expect(err.message).toMatch(/no data rows/);
  });

  it('looksLikeHeader: names above numbers or long texts, not above data of the same kind', () => {
    expect(looksLikeHeader(['review', 'stars'], [['A long review of the product, quite good', '5']])).toBe(true);
    expect(looksLikeHeader(['ham', 'Hello there'], [['ham', 'Another message text here ok'], ['spam', 'Win']])).toBe(false);
    expect(looksLikeHeader(['3', 'x'], [['4', 'y']])).toBe(false);
    expect(
      looksLikeHeader(
        ['What is the capital of France and why?', 'location'],
        [
          ['Who wrote the book called Hamlet, in English?', 'human'],
          ['How far away is the moon from the earth?', 'numeric'],
        ],
      ),
    ).toBe(false);
  });
});

describe('parseCsvAsync', () => {
  it('parses 100k rows in chunks, yielding and reporting increasing progress ending at 1', async () => {
    const parts = ['text,label\n'];
    for (let i = 0; i < 100_000; i++) parts.push(i % 97 === 0 ? `"row ${i}, quoted",b\n` : `row ${i},${i % 3 === 0 ? 'a' : 'b'}\n`);
    const text = parts.join('');
    const fractions: number[] = [];
    let timerFiredAfter = -1;
    setTimeout(() => {
      timerFiredAfter = fractions.length;
    }, 0);
    const t = await parseCsvAsync(text, { onProgress: (f) => fractions.push(f), chunkSize: 64 * 1024 });
    expect(t.rows).toHaveLength(100_000);
    expect(t.lineNumbers.at(-1)).toBe(100_001);
    expect(t.rows[97]).toEqual(['row 97, quoted', 'b']);
    expect(t.problems).toEqual([]);
    expect(fractions.length).toBeGreaterThan(5);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThan(fractions[i - 1]);
    expect(fractions[0]).toBeGreaterThan(0);
    expect(fractions.at(-1)).toBe(1);
    // The timer could only run if the parser awaited a macrotask before finishing.
    expect(timerFiredAfter).toBeGreaterThan(0);
    expect(timerFiredAfter).toBeLessThan(fractions.length);
  });

  it('gives the same table as parseCsv, whatever the chunk size', async () => {
    const text =
      'text;label\r\n' +
      Array.from({ length: 3000 }, (_, i) =>
        i % 7 === 0 ? `"multi\r\nline; ${i} ""q"""; l${i % 4}` : i % 101 === 0 ? `ragged;${i};x` : `t ${i};l${i % 4}`,
      ).join('\r\n');
    const sync = parseCsv(text);
    for (const chunkSize of [1024, 4096, 100_000]) {
      const asyncTable = await parseCsvAsync(text, { chunkSize });
      expect(asyncTable).toEqual(sync);
    }
    expect(sync.problems.length).toBeGreaterThan(0);
  });

  it('validates chunkSize and honours an abort signal', async () => {
    await expect(parseCsvAsync('a,b\n1,2\n', { chunkSize: 10 })).rejects.toSatisfy(isStudioError);
    const controller = new AbortController();
    const text = 'text,label\n' + 'x,y\n'.repeat(50_000);
    const p = parseCsvAsync(text, { chunkSize: 1024, signal: controller.signal, onProgress: () => controller.abort() });
    await expect(p).rejects.toThrow();
  });

  it('readCsv decodes bytes and merges decoder warnings', async () => {
    const bytes = new Uint8Array([...utf8('text,label\ncaf'), 0xe9, ...utf8(',pos\nthe,neg\n')]);
    const t = await readCsv(bytes);
    expect(t.encoding).toBe('windows-1252');
    expect(t.rows[0]).toEqual(['café', 'pos']);
    expect(t.warnings[0]).toMatch(/Windows-1252/);
  });
});
