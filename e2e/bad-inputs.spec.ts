/**
 * The bad-input corpus's `ui` cases (tests/bad-inputs/corpus.ts) through the real page in
 * Chromium, on wasm: each file is uploaded through the data panel's file input (or a model
 * folder through the model panel's, an adapter zip or folder through the Prompts panel's, or
 * settings typed into the method panel), and the page
 * must show the very message and hint the Node run asserts, where the user looks for them.
 * One fresh page per case, so no case sees another's leftovers.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { validateTrainConfig } from '../src/tuning/config';
import {
  ADAPTER_CASES, CASES, CSV_CASES, MODEL_CASES, SETTINGS_CASES, SETTINGS_CSV, syntheticTrained, type CsvCase, type Expected, type ModelCase, type SettingsCase,
} from '../tests/bad-inputs/corpus';
import { waitForModel } from './helpers';

const scratch = mkdtempSync(path.join(tmpdir(), 'studio-bad-inputs-'));

/** A case's file on disk (Playwright takes no buffers over 50 MB; folders must be real folders). */
function onDisk(id: string, files: Map<string, Uint8Array>): string {
  const dir = path.join(scratch, id);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), bytes);
  }
  return dir;
}

/** The error note says exactly `e`: message, hint on its own line (or none), code. */
async function expectError(note: Locator, e: Expected): Promise<void> {
  await expect(note.locator('.error-message')).toHaveText(e.message);
  if (e.hint !== undefined) await expect(note.locator('.error-hint')).toHaveText(e.hint);
  else await expect(note.locator('.error-hint')).toHaveCount(0);
  await expect(note).toHaveAttribute('data-code', e.code);
}

async function open(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  return errors;
}

test.describe('bad inputs through the page', () => {
  test('the corpus marks enough cases for the page', () => {
    const ui = CASES.filter((c) => c.ui);
    console.log(`bad-input corpus: ${ui.length} of ${CASES.length} cases run in Chromium`);
    expect(ui.length).toBeGreaterThanOrEqual(8);
  });

  for (const c of CSV_CASES.filter((x) => x.ui)) {
    test(`${c.id}: ${c.describe}`, async ({ page }) => {
      const errors = await open(page);
      const file = path.join(onDisk(c.id, new Map([[c.fileName, c.bytes()]])), c.fileName);
      await page.getByTestId('csv-input').setInputFiles(file);
      if (c.error) {
        // Under the file input when the file cannot be read; under the column mapping when its rows make no dataset.
        await expectError(page.locator('.error-note:is([data-testid="table-error"], [data-testid="dataset-error"])'), c.error);
        await expect(page.getByTestId('dataset-summary')).toHaveCount(0);
      } else {
        await expectLoaded(page, c);
      }
      expect(errors).toEqual([]);
    });
  }

  for (const c of MODEL_CASES.filter((x) => x.ui)) {
    test(`${c.id}: ${c.describe}`, async ({ page }) => {
      const errors = await open(page);
      const name = await page.getByTestId('model-facts').locator('[data-fact="name"]').textContent();
      await loadModel(page, c);
      const base = new URL(page.url()).origin;
      await expectError(page.getByTestId('model-load-error').locator('.error-note'), { ...c.error, message: c.error.message.replaceAll('{base}', base) });
      // The model loaded before stays, and says so.
      await expect(page.getByTestId('model-load-error')).toContainText(`The previous model (${name}) is still loaded.`);
      await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready');
      expect(errors).toEqual([]);
    });
  }

  // Adapters through the Prompts panel's zip and folder inputs; they start from an adapter the
  // format code writes (syntheticTrained), as no engine runs in this process.
  const synthetic = syntheticTrained();
  for (const c of ADAPTER_CASES.filter((x) => x.ui)) {
    test(`${c.id}: ${c.describe}`, async ({ page }) => {
      const errors = await open(page);
      if (!c.noData) {
        await page.getByTestId('csv-input').setInputFiles({ name: 'data.csv', mimeType: 'text/csv', buffer: Buffer.from(SETTINGS_CSV) });
        await expect(page.getByTestId('dataset-summary')).toBeVisible();
      }
      const input = c.input(synthetic);
      if (input.zip) {
        await page.getByTestId('adapter-zip-input').setInputFiles({ name: input.fileName, mimeType: 'application/zip', buffer: Buffer.from(input.zip) });
      } else {
        // The folder the user picks: the one the case's files are in.
        const folder = [...input.files!.keys()][0].split('/')[0];
        await page.getByTestId('adapter-folder-input').setInputFiles(path.join(onDisk(c.id, input.files!), folder));
      }
      if (c.error) {
        await expectError(page.getByTestId('adapter-import-error'), c.error);
        await expect(page.getByTestId('adapter-info')).toHaveCount(0);
      } else {
        await expect(page.getByTestId('adapter-info')).toBeVisible();
        await expect(page.getByTestId('adapter-import-error')).toHaveCount(0);
        if (c.warnings) await expect(page.getByTestId('adapter-warnings').locator('li')).toHaveText(c.warnings);
        if (c.info?.trainedOn === null) await expect(page.getByTestId('adapter-info').locator('[data-fact="trained-on"]')).not.toContainText('undefined');
      }
      expect(errors).toEqual([]);
    });
  }

  for (const c of SETTINGS_CASES.filter((x) => x.ui)) {
    test(`${c.id}: ${c.describe}`, async ({ page }) => {
      const errors = await open(page);
      await page.getByTestId('csv-input').setInputFiles({ name: 'data.csv', mimeType: 'text/csv', buffer: Buffer.from(SETTINGS_CSV) });
      await expect(page.getByTestId('dataset-summary')).toBeVisible();
      await expect(page.getByTestId('train-count')).toHaveText('16');
      await enterSettings(page, c);
      if (checkedAsTyped(c)) {
        // The page checks as the user types, and holds Train back.
        await expect(page.getByTestId('start-training')).toBeDisabled();
        await expectError(page.getByTestId('settings-error').locator('.error-note'), c.error);
      } else {
        // Only the engine can tell (it needs the tokenizer): the Method step's preview of the
        // run says it as the settings are typed, and Train is held back too.
        await expectError(page.getByTestId('run-plan-refusal'), c.error);
        await expect(page.getByTestId('start-training')).toBeDisabled();
        await expect(page.getByTestId('train-now')).toBeDisabled();
      }
      await expect(page.getByTestId('train-status')).not.toHaveAttribute('data-phase', /baseline|training/);
      expect(errors).toEqual([]);
    });
  }
});

async function expectLoaded(page: Page, c: CsvCase): Promise<void> {
  const facts = page.getByTestId('table-facts');
  await expect(facts.locator('strong')).toHaveText(c.fileName, { timeout: 180_000 });
  await expect(page.getByTestId('dataset-summary')).toBeVisible();
  await expect(page.locator('[data-testid="table-error"], [data-testid="dataset-error"]')).toHaveCount(0);
  if (c.check?.rows !== undefined) await expect(facts).toContainText(`: ${c.check.rows.toLocaleString('en')} rows,`);
  if (c.check?.encoding) await expect(facts).toContainText(`, ${c.check.encoding}.`);
  if (c.check?.previewRows !== undefined) await expect(page.getByTestId('table-preview').locator('tbody tr')).toHaveCount(c.check.previewRows);
  if (c.check?.columns) await expect(page.getByTestId('table-preview').locator('thead th')).toHaveText(c.check.columns);
  if (c.check?.labels) {
    const bars = page.getByTestId('label-bars').locator('li');
    await expect(bars.locator('.bar-label')).toHaveText(c.check.labels.map(([name]) => name));
    await expect(bars.locator('.bar-value')).toHaveText(c.check.labels.map(([, n]) => new RegExp(`^${n.toLocaleString('en')} \\(`)));
  }
  const warnings = page.getByTestId('data-warnings').locator('li');
  if (c.warnings) await expect(warnings).toHaveText(c.warnings);
  if (c.rejected) {
    const rows = page.getByTestId('problem-rows').locator('tbody tr');
    await expect(rows).toHaveCount(c.rejected.length);
    for (const [i, r] of c.rejected.entries()) await expect(rows.nth(i).locator('td')).toHaveText([String(r.line), r.reason]);
  }
  for (const cell of c.shows ?? []) {
    await expect(page.getByTestId('table-preview').getByRole('cell', { name: cell, exact: true })).toBeVisible();
  }
  // Text stays text: no markup from a cell ran or entered the page.
  expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
  await expect(page.getByTestId('table-preview').locator('tbody script, tbody img')).toHaveCount(0);
}

async function loadModel(page: Page, c: ModelCase): Promise<void> {
  await page.getByText('Load another model').click();
  if (c.url) {
    // The preview server has nothing at this path, as the case's server has not.
    await page.getByRole('radio', { name: 'URL' }).check();
    await page.getByTestId('model-url').fill(new URL(c.url.path, page.url()).href);
    await page.getByTestId('model-url').press('Enter');
  } else {
    await page.getByRole('radio', { name: 'Local folder' }).check();
    await page.getByTestId('model-folder-input').setInputFiles(onDisk(c.id, c.files!()));
  }
}

/** The page's own check (src/state/settingsCheck.ts) catches it as typed; else only the engine does. */
function checkedAsTyped(c: SettingsCase): boolean {
  try {
    validateTrainConfig(c.config, { trainExamples: 16, tasks: 0 });
    return false;
  } catch {
    return true;
  }
}

async function enterSettings(page: Page, c: SettingsCase): Promise<void> {
  // Most settings are folded under "Advanced".
  const advanced = page.getByTestId('advanced-settings');
  if (!(await advanced.evaluate((d) => (d as HTMLDetailsElement).open))) await advanced.locator('summary').click();
  for (const [key, value] of Object.entries(c.config)) {
    const input = page.getByTestId(`setting-${key}`);
    if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption(String(value));
    else await input.fill(String(value));
    await input.blur();
  }
  for (const [label, text] of Object.entries(c.verbalizer ?? {})) await page.getByTestId(`verbalizer-${label}`).fill(text);
}
