import { describe, expect, it } from 'vitest';
import { parseCsv, type ParsedTable } from '../../src/data/csv';
import { buildDataset, defaultVerbalizer, guessMapping, type ColumnMapping, type Dataset } from '../../src/data/examples';
import { createRng } from '../../src/data/random';
import { countBy, studioErrorOf } from './helpers';

function table(columns: string[], rows: string[][]): ParsedTable {
  return {
    columns,
    rows,
    lineNumbers: rows.map((_, i) => i + 2),
    delimiter: ',',
    hasHeader: true,
    quoted: true,
    problems: [],
    warnings: [],
  };
}

const mapping = (over: Partial<ColumnMapping> = {}): ColumnMapping => ({
  textColumns: ['text'],
  labelColumn: 'label',
  taskColumn: null,
  splitColumn: null,
  ...over,
});

/** n rows per label, texts unique. */
function labeled(counts: Record<string, number>): ParsedTable {
  const rows: string[][] = [];
  for (const [label, n] of Object.entries(counts)) for (let i = 0; i < n; i++) rows.push([`${label} example number ${i}`, label]);
  // Interleave deterministically so labels are not in blocks.
  const rng = createRng(99);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return table(['text', 'label'], rows);
}

const validationIds = (d: Dataset) => d.examples.filter((e) => e.split === 'validation').map((e) => e.id);

describe('guessMapping', () => {
  it('finds text and label by name and content', () => {
    const t = table(
      ['id', 'review', 'sentiment'],
      [
        ['1', 'A wonderful film with great acting', 'pos'],
        ['2', 'Dull and far too long for what it is', 'neg'],
        ['3', 'I would watch it again tomorrow', 'pos'],
      ],
    );
    expect(guessMapping(t)).toEqual({ textColumns: ['review'], labelColumn: 'sentiment', taskColumn: null, splitColumn: null });
  });

  it('finds an unnamed label as the column with few distinct values', () => {
    const rows = Array.from({ length: 40 }, (_, i) => [`${i}`, `some longer text number ${i} here`, i % 3 === 0 ? 'a' : 'b']);
    const t = table(['column_1', 'column_2', 'column_3'], rows);
    expect(guessMapping(t)).toEqual({ textColumns: ['column_2'], labelColumn: 'column_3', taskColumn: null, splitColumn: null });
  });

  it('finds task and split columns', () => {
    const t = table(
      ['Task', 'sentence', 'Label', 'split'],
      [
        ['sentiment', 'great stuff really', 'pos', 'train'],
        ['sentiment', 'awful stuff really', 'neg', 'val'],
        ['topic', 'the match ended two all', 'sport', 'dev'],
        ['topic', 'the vote was postponed', 'politics', 'test'],
      ],
    );
    expect(guessMapping(t)).toEqual({ textColumns: ['sentence'], labelColumn: 'Label', taskColumn: 'Task', splitColumn: 'split' });
  });

  it('prefers a column named like a text over a longer one', () => {
    const t = table(
      ['url', 'text', 'label'],
      [
        ['https://example.com/a/very/long/path/to/some/page/number/one', 'short one', 'x'],
        ['https://example.com/a/very/long/path/to/some/page/number/two', 'short two', 'y'],
      ],
    );
    expect(guessMapping(t).textColumns).toEqual(['text']);
  });

  it('returns no label for a one-column table', () => {
    const t = table(['column_1'], [['a text'], ['another text']]);
    expect(guessMapping(t)).toEqual({ textColumns: ['column_1'], labelColumn: null, taskColumn: null, splitColumn: null });
  });
});

describe('buildDataset', () => {
  it('builds examples with ids, lines, trimmed labels and name-sorted label stats', () => {
    const t = table(['text', 'label'], [
      ['b text', ' spam '],
      ['a text', 'ham'],
      ['c text', 'ham'],
      ['d text', 'spam'],
    ]);
    const d = buildDataset(t, mapping());
    expect(d.examples.map((e) => [e.id, e.line, e.text, e.label])).toEqual([
      [0, 2, 'b text', 'spam'],
      [1, 3, 'a text', 'ham'],
      [2, 4, 'c text', 'ham'],
      [3, 5, 'd text', 'spam'],
    ]);
    expect(d.labels.map((l) => [l.name, l.count, l.trainCount + l.validationCount])).toEqual([
      ['ham', 2, 2],
      ['spam', 2, 2],
    ]);
    expect(d.labels.every((l) => l.validationCount === 1)).toBe(true);
    expect(d.tasks).toEqual([]);
    expect(d.rejected).toEqual([]);
    expect(d.examples[0]).not.toHaveProperty('task');
  });

  it('sorts numeric labels numerically', () => {
    const t = labeled({ '10': 3, '2': 3, '1': 3 });
    expect(buildDataset(t, mapping()).labels.map((l) => l.name)).toEqual(['1', '2', '10']);
  });

  it('rejects rows with empty text, missing label, and carries parse problems over, in line order', () => {
    const parsed = parseCsv('text,label\na,x\n   ,y\nb,\nbroken,row,here\nc,y\nd,x\ne,y\n');
    const d = buildDataset(parsed, mapping());
    expect(d.examples.map((e) => e.text)).toEqual(['a', 'c', 'd', 'e']);
    expect(d.rejected.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(d.rejected[0].reason).toMatch(/text is empty/);
    expect(d.rejected[1].reason).toMatch(/label is missing/);
    expect(d.rejected[2].reason).toMatch(/3 fields/);
  });

  it('joins several text columns, skipping empty parts', () => {
    const t = table(['title', 'body', 'label'], [
      ['T1', 'B1', 'x'],
      ['', 'B2', 'y'],
      ['T3', 'B3', 'x'],
      ['T4', '', 'y'],
    ]);
    const d = buildDataset(t, mapping({ textColumns: ['title', 'body'] }), { textJoiner: ' | ' });
    expect(d.examples.map((e) => e.text)).toEqual(['T1 | B1', 'B2', 'T3 | B3', 'T4']);
    expect(buildDataset(t, mapping({ textColumns: ['title', 'body'] })).examples[0].text).toBe('T1\nB1');
  });

  it('truncates long texts from the chosen side without splitting surrogate pairs', () => {
    const t = table(['text', 'label'], [
      ['abcdef', 'x'],
      ['ab😀cd', 'y'],
      ['abc', 'x'],
      ['xy😀', 'y'],
    ]);
    const right = buildDataset(t, mapping(), { maxTextChars: 3 });
    expect(right.examples.map((e) => e.text)).toEqual(['abc', 'ab', 'abc', 'xy']);
    expect(right.truncated).toBe(3);
    const left = buildDataset(t, mapping(), { maxTextChars: 3, truncateSide: 'left' });
    expect(left.examples.map((e) => e.text)).toEqual(['def', 'cd', 'abc', 'y😀']);
    expect(left.warnings.some((w) => /cut from the left/.test(w))).toBe(true);
  });

  it('splits deterministically: same seed same split, different seed different split', () => {
    const t = labeled({ a: 50, b: 30, c: 20 });
    const s0 = validationIds(buildDataset(t, mapping(), { seed: 0 }));
    expect(validationIds(buildDataset(t, mapping(), { seed: 0 }))).toEqual(s0);
    expect(validationIds(buildDataset(t, mapping()))).toEqual(s0);
    const s1 = validationIds(buildDataset(t, mapping(), { seed: 1 }));
    expect(s1).not.toEqual(s0);
    expect(s1.length).toBe(s0.length);
  });

  it('stratifies by label: each validation share is within one example of the fraction', () => {
    const counts = { a: 97, b: 41, c: 13, d: 7, e: 3, f: 2 };
    const t = labeled(counts);
    for (const fraction of [0.1, 0.2, 0.35, 0.5, 0.9]) {
      for (const seed of [0, 1, 2]) {
        const d = buildDataset(t, mapping(), { validationFraction: fraction, seed });
        for (const l of d.labels) {
          expect(l.count).toBe(counts[l.name as keyof typeof counts]);
          expect(Math.abs(l.validationCount - l.count * fraction)).toBeLessThanOrEqual(1);
          expect(l.validationCount).toBeGreaterThanOrEqual(1);
          expect(l.trainCount).toBeGreaterThanOrEqual(1);
        }
      }
    }
  });

  it('keeps a label with a single example in train, with a warning', () => {
    const t = labeled({ a: 10, b: 10, lonely: 1 });
    const d = buildDataset(t, mapping());
    const lonely = d.labels.find((l) => l.name === 'lonely')!;
    expect(lonely).toMatchObject({ count: 1, trainCount: 1, validationCount: 0 });
    expect(d.warnings.some((w) => /"lonely" has only one example/.test(w))).toBe(true);
  });

  it('honours a split column (train/val/dev/test), rejecting unknown values', () => {
    const t = table(['text', 'label', 'split'], [
      ['t1', 'x', 'train'],
      ['t2', 'y', 'TRAIN'],
      ['t3', 'x', 'val'],
      ['t4', 'y', 'dev'],
      ['t5', 'x', 'test'],
      ['t6', 'y', 'holdout?'],
      ['t7', 'x', ''],
      ['t8', 'y', 'training'],
    ]);
    const d = buildDataset(t, mapping({ splitColumn: 'split' }), { validationFraction: 0.5, seed: 3 });
    expect(d.examples.map((e) => [e.text, e.split])).toEqual([
      ['t1', 'train'],
      ['t2', 'train'],
      ['t3', 'validation'],
      ['t4', 'validation'],
      ['t5', 'validation'],
      ['t8', 'train'],
    ]);
    expect(d.rejected.map((r) => r.line)).toEqual([7, 8]);
    expect(d.rejected[0].reason).toMatch(/Unknown split value "holdout\?"/);
    expect(d.warnings.some((w) => /"test" is used for validation/.test(w))).toBe(true);
    // The option can name the split column or switch it off.
    expect(buildDataset(t, mapping(), { splitColumn: 'split' }).examples).toHaveLength(6);
    expect(buildDataset(t, mapping({ splitColumn: 'split' }), { splitColumn: null }).examples).toHaveLength(8);
  });

  it('stratifies per task and lists tasks', () => {
    const rows: string[][] = [];
    for (let i = 0; i < 20; i++) rows.push([`s ${i}`, i % 2 ? 'pos' : 'neg', 'sentiment']);
    for (let i = 0; i < 10; i++) rows.push([`t ${i}`, i % 2 ? 'pos' : 'sport', 'topic']);
    const d = buildDataset(table(['text', 'label', 'task'], rows), mapping({ taskColumn: 'task' }), { validationFraction: 0.2 });
    expect(d.tasks).toEqual(['sentiment', 'topic']);
    expect(d.examples[0].task).toBe('sentiment');
    const val = countBy(d.examples.filter((e) => e.split === 'validation'), (e) => `${e.task}/${e.label}`);
    expect(val).toEqual({ 'sentiment/neg': 2, 'sentiment/pos': 2, 'topic/pos': 1, 'topic/sport': 1 });
  });

  it('warns about duplicate texts and conflicting labels', () => {
    const t = table(['text', 'label'], [
      ['same', 'x'],
      ['same', 'x'],
      ['same', 'x'],
      ['clash', 'x'],
      ['clash', 'y'],
      ['other', 'y'],
    ]);
    const d = buildDataset(t, mapping());
    expect(d.warnings.some((w) => /2 texts occur more than once \(3 extra copies\)/.test(w))).toBe(true);
    expect(d.warnings.some((w) => /1 text has different labels/.test(w))).toBe(true);
  });

  describe('errors', () => {
    const t = labeled({ a: 5, b: 5 });
    it('one label class', () => {
      const err = studioErrorOf(() => buildDataset(labeled({ only: 6 }), mapping()), 'data');
      expect(err.message).toMatch(/same label \("only"\)/);
      expect(err.hint).toMatch(/at least two labels/);
    });
    it('no label column', () => {
      expect(studioErrorOf(() => buildDataset(t, mapping({ labelColumn: null })), 'data').message).toMatch(/No label column/);
    });
    it('a mapping naming a column that does not exist', () => {
      const err = studioErrorOf(() => buildDataset(t, mapping({ labelColumn: 'category' })), 'data');
      expect(err.message).toMatch(/"category" does not exist/);
      expect(err.hint).toMatch(/text, label/);
      studioErrorOf(() => buildDataset(t, mapping({ textColumns: ['body'] })), 'data');
      studioErrorOf(() => buildDataset(t, mapping({ textColumns: [] })), 'data');
      studioErrorOf(() => buildDataset(t, mapping({ splitColumn: 'fold' })), 'data');
    });
    it('text and label the same column', () => {
      expect(studioErrorOf(() => buildDataset(t, mapping({ textColumns: ['label'] })), 'data').message).toMatch(/both as text and as label/);
    });
    it('validation fraction outside (0, 0.9]', () => {
      for (const f of [0, -0.1, 0.95, 1, Number.NaN]) {
        studioErrorOf(() => buildDataset(t, mapping(), { validationFraction: f }), 'settings');
      }
      expect(buildDataset(t, mapping(), { validationFraction: 0.9 }).examples).toHaveLength(10);
    });
    it('other bad settings', () => {
      studioErrorOf(() => buildDataset(t, mapping(), { seed: 1.5 }), 'settings');
      studioErrorOf(() => buildDataset(t, mapping(), { maxTextChars: 0 }), 'settings');
      studioErrorOf(() => buildDataset(t, mapping(), { truncateSide: 'middle' as never }), 'settings');
    });
    it('a split column without validation rows', () => {
      const s = table(['text', 'label', 'split'], [
        ['a', 'x', 'train'],
        ['b', 'y', 'train'],
        ['c', 'x', 'train'],
      ]);
      const err = studioErrorOf(() => buildDataset(s, mapping({ splitColumn: 'split' })), 'data');
      expect(err.message).toMatch(/no usable rows for validation/);
    });
    it('no usable rows', () => {
      const s = table(['text', 'label'], [
        ['', 'x'],
        ['a', ''],
      ]);
      expect(studioErrorOf(() => buildDataset(s, mapping()), 'data').message).toMatch(/None of the rows could be used/);
    });
    it('every label has one example', () => {
      expect(studioErrorOf(() => buildDataset(labeled({ a: 1, b: 1 }), mapping()), 'data').message).toMatch(/single example/);
    });
  });
});

describe('defaultVerbalizer', () => {
  it('adds a leading space and turns underscores and hyphens into spaces', () => {
    expect(defaultVerbalizer(['positive', 'very_negative', 'so-so', 'A__B--c'])).toEqual({
      positive: ' positive',
      very_negative: ' very negative',
      'so-so': ' so so',
      'A__B--c': ' A B c',
    });
  });

  it('accepts label stats and keeps colliding labels distinct', () => {
    const v = defaultVerbalizer([{ name: 'a_b' }, { name: 'a-b' }, { name: 'c' }]);
    expect(v).toEqual({ a_b: ' a_b', 'a-b': ' a-b', c: ' c' });
    expect(new Set(Object.values(v)).size).toBe(3);
  });
});
