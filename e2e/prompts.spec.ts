/**
 * Prompts that travel, in Chromium (wasm backend): two trained prompts kept in the library,
 * a CSV whose rows name their prompt predicted in mixed batches and downloaded, the adapter
 * zip downloaded and loaded back after a reload, predicting as before.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import Papa from 'papaparse';
import { waitForModel } from './helpers';
import { QUICK_RUN, screenshotOf, setSettings, trainStatus, uploadSample } from './runHelpers';

async function trainQuickly(page: Page, settings: Record<string, number | string>): Promise<void> {
  await setSettings(page, { ...QUICK_RUN, steps: 10, ...settings });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 180_000 });
}

async function addToLibrary(page: Page, name: string): Promise<void> {
  await page.getByTestId('library-name').fill(name);
  await page.getByTestId('library-add').click();
  await expect(page.getByTestId('library-row').and(page.locator(`[data-name="${name}"]`))).toBeVisible();
}

async function playground(page: Page, text: string): Promise<string> {
  await page.getByTestId('playground-input').fill(text);
  await page.getByTestId('playground-predict').click();
  const result = page.getByTestId('playground-result');
  await expect(result).toBeVisible();
  return (await result.innerText()).trim();
}

test('prompts: a library of two, mixed-prompt batch prediction, the adapter zip loaded back after a reload', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  await uploadSample(page, 12);

  await trainQuickly(page, { seed: 1 });
  await addToLibrary(page, 'spam-a');
  const text = 'WINNER!! You have won a free prize, call now to claim';
  const before = await playground(page, text);

  // The soft prompt as a PEFT zip.
  const downloaded = page.waitForEvent('download');
  await page.getByTestId('download-adapter').click();
  const download = await downloaded;
  const zipPath = await download.path();
  const zip = unzipSync(new Uint8Array(readFileSync(zipPath)));
  expect(Object.keys(zip).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'checkpoint.safetensors', 'studio.json']);

  await page.getByTestId('setting-method').selectOption('prefix');
  await trainQuickly(page, { seed: 2 });
  await addToLibrary(page, 'spam-b');

  // A CSV whose rows name their prompt, one of them unknown.
  const rows = [['message', 'prompt'], ['Free entry! Text WIN now', 'spam-a'], ['see you at lunch', 'spam-b'], ['=1+1 call me', 'spam-a'], ['hello', 'nobody']];
  const dir = mkdtempSync(path.join(tmpdir(), 'studio-batch-'));
  const batchFile = path.join(dir, 'batch.csv');
  writeFileSync(batchFile, Papa.unparse(rows));
  await page.getByTestId('batch-input').setInputFiles(batchFile);
  await expect(page.getByTestId('batch-text-column')).toHaveValue('message');
  await expect(page.getByTestId('batch-prompt-column')).toHaveValue('prompt');
  await page.getByTestId('batch-run').click();
  const result = page.getByTestId('batch-result');
  await expect(result).toHaveAttribute('data-rows', '4');
  await expect(result).toHaveAttribute('data-failed', '1');
  await screenshotOf(page.getByTestId('prompts-panel'), 'prompts-1-library-batch');
  const batchDownload = page.waitForEvent('download');
  await page.getByTestId('batch-download').click();
  const csv = readFileSync(await (await batchDownload).path(), 'utf8');
  const parsed = Papa.parse<Record<string, string>>(csv.trim(), { header: true }).data;
  expect(parsed.map((r) => r.prompt)).toEqual(['spam-a', 'spam-b', 'spam-a', 'nobody']);
  expect(parsed[2].text).toBe("'=1+1 call me");
  for (const r of parsed.slice(0, 3)) {
    expect(['ham', 'spam']).toContain(r.predicted);
    expect(Number(r['p(ham)']) + Number(r['p(spam)'])).toBeCloseTo(1, 5);
  }
  expect(parsed[3].error).toBe('No prompt named "nobody" in the library.');

  // After a reload, the zip alone brings the first prompt back: same predictions.
  await page.reload();
  await waitForModel(page);
  await page.getByTestId('adapter-zip-input').setInputFiles({ name: 'spam-a.zip', mimeType: 'application/zip', buffer: readFileSync(zipPath) });
  const info = page.getByTestId('adapter-info');
  await expect(info.locator('[data-fact="method"]')).toContainText('prompt (PROMPT_TUNING), 4 virtual tokens');
  await expect(info.locator('[data-fact="labels"]')).toHaveText('ham, spam');
  await expect(info.locator('[data-fact="trained-on"]')).toContainText('the loaded model');
  expect(await playground(page, text)).toBe(before);
  // Its nearest tokens are shown as for a trained prompt.
  await expect(page.getByTestId('projection-grid')).toBeVisible();
  await screenshotOf(page.getByTestId('prompts-panel'), 'prompts-2-imported');

  // A file that is not an adapter gets a plain answer in place.
  await page.getByTestId('adapter-zip-input').setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
  await expect(page.getByTestId('adapter-import-error')).toContainText('The adapter file is not a zip archive.');
  expect(errors).toEqual([]);
});
