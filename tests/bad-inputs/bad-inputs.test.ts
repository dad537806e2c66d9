import { describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { StudioEngine } from '../../src/engine/studio';
import { describeError } from '../../src/errors';
import { hasSharedModel, packageDir } from '../helpers';
import { CSV_CASES, SETTINGS_CASES } from './corpus';

async function engine(withModel: boolean) {
  const e = new StudioEngine(() => {});
  await e.init('cpu');
  if (withModel) await e.loadModel(folderSource(packageDir('stories260K')));
  return e;
}

describe('bad-input corpus: CSV files', () => {
  for (const c of CSV_CASES) {
    it(`${c.id}: ${c.describe}`, async () => {
      const e = await engine(false);
      let error: string | null = null;
      let warnings: string[] = [];
      let rejected: { line: number; reason: string }[] = [];
      try {
        const table = await e.loadTable(c.fileName, c.bytes());
        const dataset = e.buildDataset(table.guess, { validationFraction: 0.25, seed: 0, splitColumn: null });
        warnings = [...table.warnings, ...dataset.warnings];
        rejected = dataset.rejected;
        if (c.check?.rows !== undefined) expect(table.rowCount).toBe(c.check.rows);
        if (c.check?.columns) expect(table.columns).toEqual(c.check.columns);
        if (c.check?.encoding) expect(table.encoding).toBe(c.check.encoding);
        if (c.check?.labels) expect(dataset.labels.map((l) => [l.name, l.count])).toEqual(c.check.labels);
      } catch (err) {
        error = describeError(err);
      }
      expect(error).toBe(c.error);
      if (c.warnings) expect(warnings).toEqual(c.warnings);
      if (c.rejected) expect(rejected).toEqual(c.rejected);
    });
  }
});

describe.skipIf(!hasSharedModel)('a 2,000,000-character cell trains, cut to the max length', () => {
  it('tokenizes only what fits and counts the text as truncated', async () => {
    const e = await engine(true);
    const huge = CSV_CASES.find((c) => c.id === 'csv-huge-cell')!;
    const table = await e.loadTable(huge.fileName, huge.bytes());
    const dataset = e.buildDataset(table.guess, { validationFraction: 0.25, seed: 0, splitColumn: null });
    const info = await e.startTraining({ config: { steps: 1, batchSize: 1, maxLength: 32, numVirtualTokens: 2 }, verbalizer: dataset.verbalizer });
    expect(info.truncated).toBe(1);
    expect((await e.waitForRun())?.stoppedBy).toBe('completed');
  });
});

describe.skipIf(!hasSharedModel)('bad-input corpus: training settings', () => {
  for (const c of SETTINGS_CASES) {
    it(`${c.id}: ${c.describe}`, async () => {
      const e = await engine(true);
      const rows = Array.from({ length: 20 }, (_, i) => `message number ${i},${i % 2 ? 'spam' : 'ham'}`).join('\n');
      const table = await e.loadTable('data.csv', new TextEncoder().encode('text,label\n' + rows));
      const dataset = e.buildDataset(table.guess, { validationFraction: 0.2, seed: 0, splitColumn: null });
      let error: string | null = null;
      try {
        await e.startTraining({ config: { batchSize: 4, ...c.config }, verbalizer: dataset.verbalizer });
        await e.waitForRun();
      } catch (err) {
        error = describeError(err);
      }
      expect(error).toBe(c.error);
    });
  }
});
