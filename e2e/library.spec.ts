/**
 * Prompts that travel, in Chromium on the wasm backend: two trained prompts kept in the
 * library, the adapter zip and the checkpoint downloaded and read, a CSV whose rows name
 * their prompt predicted in mixed batches (and with one prompt for every row), then after a
 * reload the zip alone brings the prompt back — same probabilities, same nearest tokens,
 * the same validation accuracy once its data is loaded — as does the same adapter as a plain
 * PEFT folder. Loading another model empties the library.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Download, type Page } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import Papa from 'papaparse';
import { repoRoot, waitForModel } from './helpers';
import { QUICK_RUN, screenshotOf, setSettings, trainStatus, uploadSample } from './runHelpers';

const TEXT = 'WIN a free prize, call now';

async function trainQuickly(page: Page, settings: Record<string, number | string>): Promise<void> {
  await setSettings(page, { ...QUICK_RUN, steps: 40, ...settings });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 240_000 });
}

const libraryRow = (page: Page, name: string) => page.getByTestId('library-row').and(page.locator(`[data-name="${name}"]`));

async function addToLibrary(page: Page, name: string): Promise<void> {
  await page.getByTestId('library-name').fill(name);
  await page.getByTestId('library-add').click();
  await expect(libraryRow(page, name)).toBeVisible();
}

/** The playground's label probabilities for a text, with the soft prompt, exactly as the page has them. */
async function playground(page: Page, text: string): Promise<Record<string, number>> {
  await page.getByTestId('playground-input').fill(text);
  await page.getByTestId('playground-predict').click();
  const rows = page.getByTestId('playground-result').locator('tbody tr');
  await expect(rows.first()).toHaveAttribute('data-soft', /\d/);
  const out: Record<string, number> = {};
  for (const row of await rows.all()) out[(await row.getAttribute('data-label'))!] = Number(await row.getAttribute('data-soft'));
  return out;
}

/** What the playground shows the model writing after the text, with the soft prompt and without one (after playground()). */
async function continuations(page: Page): Promise<{ soft: string; zeroShot: string }> {
  const shown = page.getByTestId('playground-continuations');
  const text = async (variant: string) => (await shown.locator(`[data-variant="${variant}"]`).getAttribute('data-text'))!;
  return { soft: await text('soft'), zeroShot: await text('zero-shot') };
}

async function downloadOf(page: Page, testId: string): Promise<{ name: string; bytes: Buffer }> {
  // Listening before the click: the download can start before the next line runs.
  const pending: Promise<Download> = page.waitForEvent('download');
  await page.getByTestId(testId).click();
  const download = await pending;
  return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
}

/** A safetensors file's JSON header (tensors by name, and __metadata__). */
function safetensorsHeader(bytes: Uint8Array): Record<string, { dtype: string; shape: number[] } & Record<string, unknown>> {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  return JSON.parse(strFromU8(bytes.subarray(8, 8 + length)));
}

/** A file dropped on an element, as a drag from the desktop delivers it. */
async function dropFile(page: Page, target: ReturnType<Page['getByTestId']>, name: string, bytes: Buffer, type: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(({ name, b64, type }) => {
    const data = new DataTransfer();
    data.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type }));
    return data;
  }, { name, b64: bytes.toString('base64'), type });
  await target.dispatchEvent('drop', { dataTransfer });
}

const parseCsv = (text: string) => Papa.parse<Record<string, string>>(text.trim(), { header: true }).data;

test('library: two prompts, mixed-prompt batch CSV, adapter zip and PEFT folder loaded back after a reload', async ({ page }) => {
  test.setTimeout(900_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const dir = mkdtempSync(path.join(tmpdir(), 'studio-library-'));

  await page.goto('/?backend=wasm');
  await waitForModel(page);
  await uploadSample(page, 20);

  // ---- Prompt A: prompt tuning, seed 1 -------------------------------------------------
  await trainQuickly(page, { seed: 1 });
  // Nothing typed: the name offered is <csv name>-<method>.
  await expect(page.getByTestId('library-name')).toHaveAttribute('placeholder', 'sms_spam-sample-prompt');
  await addToLibrary(page, 'spam-a');
  const accuracyA = Number(await page.getByTestId('comparison').locator('li[data-variant="soft"]').getAttribute('data-value'));
  expect(accuracyA).toBeGreaterThan(0);
  const nearestA = await page.getByTestId('projection-grid').locator('tbody').innerText();
  const before = await playground(page, TEXT);
  expect(Object.keys(before)).toEqual(['ham', 'spam']);
  expect(before.ham + before.spam).toBeCloseTo(1, 5);
  // What the model writes after the text, with the prompt and without: a few tokens each, shown with their spaces.
  const writtenBefore = await continuations(page);
  expect(writtenBefore.soft.length).toBeGreaterThan(0);
  await expect(page.getByTestId('playground-continuations').locator('[data-variant="soft"] code')).toHaveText(
    writtenBefore.soft.replace(/^ +| +$/g, (m) => '\u2423'.repeat(m.length)).replace(/\r?\n/g, '\u21b5'));
  await screenshotOf(page.locator('.playground'), 'library-1-playground');

  // The soft prompt as a PEFT zip: the two files PEFT reads, in its layout.
  const zip = await downloadOf(page, 'download-adapter');
  expect(zip.name).toBe('sms_spam-sample-prompt-step40.zip');
  const files = unzipSync(new Uint8Array(zip.bytes));
  expect(Object.keys(files)).toEqual(expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors']));
  const adapterConfig = JSON.parse(strFromU8(files['adapter_config.json']));
  expect(adapterConfig).toMatchObject({ peft_type: 'PROMPT_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: 4, token_dim: 64 });
  expect(safetensorsHeader(files['adapter_model.safetensors']).prompt_embeddings).toMatchObject({ dtype: 'F32', shape: [4, 64] });
  const zipPath = path.join(dir, 'spam-a.zip');
  writeFileSync(zipPath, zip.bytes);

  // The resumable checkpoint, on its own.
  const checkpoint = await downloadOf(page, 'download-checkpoint');
  expect(checkpoint.name).toBe('sms_spam-sample-prompt-step40.checkpoint.safetensors');
  expect(safetensorsHeader(checkpoint.bytes).__metadata__).toMatchObject({ step: '40' });

  // ---- Prompt B: prefix tuning, seed 2 -------------------------------------------------
  await page.getByTestId('setting-method').selectOption('prefix');
  await trainQuickly(page, { seed: 2 });
  await expect(page.getByTestId('library-name')).toHaveAttribute('placeholder', 'sms_spam-sample-prefix');
  await addToLibrary(page, 'spam-b');
  await expect(page.getByTestId('library-row')).toHaveCount(2);
  await expect(libraryRow(page, 'spam-a').locator('td')).toHaveText(['spam-a', 'prompt', '4', 'ham, spam', /%$/, 'trained, step 40', 'Remove']);
  await expect(libraryRow(page, 'spam-b').locator('td')).toHaveText(['spam-b', 'prefix', '4', 'ham, spam', /%$/, 'trained, step 40', 'Remove']);

  // ---- A CSV whose rows name their prompt, one of them unknown --------------------------
  const rows = [
    ['message', 'prompt'],
    ['Free entry! Text WIN now', 'spam-a'],
    ['see you at lunch', 'spam-b'],
    ['=1+1 call me', 'spam-a'],
    ['hello', 'nobody'],
    [TEXT, 'spam-a'],
    [TEXT, 'spam-b'],
  ];
  const batchFile = path.join(dir, 'batch.csv');
  writeFileSync(batchFile, Papa.unparse(rows));
  await page.getByTestId('batch-input').setInputFiles(batchFile);
  await expect(page.getByTestId('batch-text-column')).toHaveValue('message');
  await expect(page.getByTestId('batch-prompt-column')).toHaveValue('prompt');
  await page.getByTestId('batch-run').click();
  const result = page.getByTestId('batch-result');
  await expect(result).toHaveAttribute('data-rows', '6');
  await expect(result).toHaveAttribute('data-failed', '1');
  await expect(result.locator('tbody tr')).toHaveCount(5);
  await screenshotOf(page.getByTestId('prompts-panel'), 'library-1-batch');
  const batch = await downloadOf(page, 'batch-download');
  expect(batch.name).toBe('batch-predictions.csv');
  const parsed = parseCsv(batch.bytes.toString('utf8'));
  expect(parsed.map((r) => r.prompt)).toEqual(['spam-a', 'spam-b', 'spam-a', 'nobody', 'spam-a', 'spam-b']);
  expect(parsed.map((r) => r.line)).toEqual(['2', '3', '4', '5', '6', '7']);
  expect(parsed[2].text).toBe("'=1+1 call me");
  for (const r of parsed.filter((x) => x.prompt !== 'nobody')) {
    expect(r.error).toBe('');
    expect(['ham', 'spam']).toContain(r.predicted);
    expect(Number(r['p(ham)']) + Number(r['p(spam)'])).toBeCloseTo(1, 5);
  }
  expect(parsed[3]).toMatchObject({ predicted: '', error: 'No prompt named "nobody" in the library.' });
  // A's row in the mixed batch scores as A alone in the playground.
  expect(Number(parsed[4]['p(spam)'])).toBeCloseTo(before.spam, 5);
  // B is another prompt: another answer for the same text.
  expect(Number(parsed[5]['p(spam)'])).not.toBeCloseTo(before.spam, 5);

  // The same CSV dropped, with one prompt for every row: the prompt column is ignored.
  await dropFile(page, page.getByTestId('batch-input').locator('..'), 'batch.csv', readFileSync(batchFile), 'text/csv');
  await expect(page.getByTestId('batch-result')).toHaveCount(0);
  await expect(page.getByTestId('batch-prompt-column')).toHaveValue('prompt');
  await page.getByTestId('batch-prompt-column').selectOption('');
  await page.getByTestId('batch-prompt').selectOption('spam-b');
  await page.getByTestId('batch-run').click();
  await expect(result).toHaveAttribute('data-failed', '0');
  const allB = parseCsv((await downloadOf(page, 'batch-download')).bytes.toString('utf8'));
  expect(allB.map((r) => r.prompt)).toEqual(Array(6).fill('spam-b'));
  expect(Number(allB[4]['p(spam)'])).toBeCloseTo(Number(parsed[5]['p(spam)']), 5);

  // Removed from the library, a prompt is gone for good.
  await libraryRow(page, 'spam-b').getByRole('button', { name: 'Remove spam-b' }).click();
  await expect(page.getByTestId('library-row')).toHaveCount(1);

  // ---- After a reload: the zip alone brings prompt A back -------------------------------
  await page.reload();
  await waitForModel(page);
  // The same data first, so the adapter can be evaluated on it.
  await uploadSample(page, 20);
  await page.getByTestId('adapter-zip-input').setInputFiles(zipPath);
  const info = page.getByTestId('adapter-info');
  await expect(info.locator('[data-fact="method"]')).toHaveText('prompt (PROMPT_TUNING), 4 virtual tokens');
  await expect(info.locator('[data-fact="labels"]')).toHaveText('ham, spam');
  await expect(info.locator('[data-fact="trained-on"]')).toContainText('— the loaded model');
  await expect(info.locator('[data-fact="metrics"]')).toContainText(`validation accuracy ${(accuracyA * 100).toFixed(1)}%`);
  await expect(info.locator('[data-fact="evaluable"]')).toContainText('validation split');
  await expect(page.getByTestId('adapter-import-error')).toHaveCount(0);
  await expect(page.getByTestId('train-status')).toHaveText(/^No training: the current prompt is the adapter loaded from .+\.zip\.$/);

  // The playground: the very probabilities it gave before the reload.
  const after = await playground(page, TEXT);
  expect(after.ham).toBeCloseTo(before.ham, 6);
  expect(after.spam).toBeCloseTo(before.spam, 6);
  expect(await continuations(page)).toEqual(writtenBefore);
  // Its nearest tokens, as at the end of its training.
  await expect(page.getByTestId('projection-grid')).toHaveAttribute('data-step', '0');
  expect(await page.getByTestId('projection-grid').locator('tbody').innerText()).toBe(nearestA);
  await screenshotOf(page.getByTestId('prompts-panel'), 'library-2-imported');

  // Evaluated on the same validation split: the accuracy it was exported with.
  await page.getByTestId('evaluate-prompt').click();
  await expect(page.getByTestId('comparison').locator('li[data-variant="soft"]')).toHaveAttribute('data-value', String(accuracyA));
  await expect(page.getByTestId('comparison').locator('li[data-variant="zero-shot"]')).toHaveAttribute('data-value', /\d/);
  const predictions = parseCsv((await downloadOf(page, 'download-predictions')).bytes.toString('utf8'));
  expect(predictions.length).toBeGreaterThan(0);
  expect(predictions.filter((r) => r.correct === 'yes').length / predictions.length).toBeCloseTo(accuracyA, 6);
  // An imported adapter has no training state to checkpoint.
  await expect(page.getByTestId('download-checkpoint')).toBeDisabled();

  // Added to the library, it is named after its file, and predicts in a batch.
  await expect(page.getByTestId('library-name')).toHaveAttribute('placeholder', 'spam-a');
  await page.getByTestId('library-add').click();
  await expect(libraryRow(page, 'spam-a').locator('td').nth(5)).toHaveText('spam-a.zip');

  // ---- The same adapter as a plain PEFT folder (no studio.json) --------------------------
  // Its labels come from the loaded data, its verbalizer and template from the settings.
  const folder = path.join(dir, 'plain-adapter');
  mkdirSync(folder);
  for (const name of ['adapter_config.json', 'adapter_model.safetensors']) writeFileSync(path.join(folder, name), files[name]);
  await page.getByTestId('adapter-folder-input').setInputFiles(folder);
  await expect(info.locator('[data-fact="trained-on"]')).toContainText('stories260K (no fingerprint');
  await expect(info.locator('dd').first()).toHaveText('plain-adapter');
  const plain = await playground(page, TEXT);
  expect(plain.spam).toBeCloseTo(before.spam, 6);
  expect(await continuations(page)).toEqual(writtenBefore);

  // Not an adapter: the engine's message and hint, in place; the loaded prompt stays.
  await page.getByTestId('adapter-zip-input').setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
  const importError = page.getByTestId('adapter-import-error');
  await expect(importError.locator('.error-message')).toHaveText('The adapter file is not a zip archive.');
  await expect(importError.locator('.error-hint')).toContainText('adapter_config.json');
  await expect(page.getByTestId('playground-predict')).toBeEnabled();

  // The zip dropped on the panel: prompt A again, its metrics with it.
  await dropFile(page, page.getByTestId('adapter-drop'), 'spam-a.zip', zip.bytes, 'application/zip');
  await expect(info.locator('dd').first()).toHaveText('spam-a.zip');
  await expect(info.locator('[data-fact="metrics"]')).toBeVisible();
  await expect(page.getByTestId('adapter-import-error')).toHaveCount(0);

  // ---- Another model: prompts belong to a model -----------------------------------------
  await page.getByText('Load another model').click();
  await page.getByRole('radio', { name: 'Local folder' }).check();
  await page.getByTestId('model-folder-input').setInputFiles(path.join(repoRoot, 'public', 'models', 'stories260K-f32'));
  await expect(page.getByTestId('model-facts').locator('[data-fact="source"]')).toContainText('chosen files');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('library-row')).toHaveCount(0);
  await expect(page.getByTestId('adapter-info')).toHaveCount(0);
  await expect(page.getByTestId('playground-predict')).toBeDisabled();
  await expect(page.getByTestId('library-add')).toBeDisabled();

  expect(errors).toEqual([]);
});
