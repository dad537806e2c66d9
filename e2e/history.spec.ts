/**
 * The run history, in Chromium: every run is kept in IndexedDB as it trains; the history
 * lists them with their figures, opens one read-only, compares two on one chart, renames and
 * deletes from the keyboard (errors in place), and exports a run as JSON and its checkpoint.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { waitForModel } from './helpers';
import { QUICK_RUN, screenshotOf, setSettings, storedRuns, trainStatus, uploadSample } from './runHelpers';

test('the run history: list, open read-only, compare, rename and delete by keyboard, export', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  await expect(page.getByTestId('history-empty')).toBeVisible();
  await uploadSample(page);

  // Two runs: 10 steps with 4 virtual tokens, then 15 with 6.
  await setSettings(page, { ...QUICK_RUN, steps: 10 });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });
  await setSettings(page, { numVirtualTokens: 6, steps: 15 });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });

  const rows = page.getByTestId('history-row');
  await expect(rows).toHaveCount(2);
  // Newest first, each with its figures.
  const [newer, older] = [rows.nth(0), rows.nth(1)];
  await expect(newer.getByTestId('run-name')).toHaveText('sms_spam-sample, prompt, 6 tokens');
  await expect(older.getByTestId('run-name')).toHaveText('sms_spam-sample, prompt, 4 tokens');
  await expect(newer.getByTestId('run-steps')).toHaveText('15 / 15');
  await expect(older.getByTestId('run-steps')).toHaveText('10 / 10');
  for (const row of [newer, older]) {
    await expect(row.getByTestId('run-status')).toHaveText('completed');
    await expect(row.getByTestId('run-best')).toHaveText(/^\d+\.\d%$/);
    await expect(row.getByTestId('run-zero-shot')).toHaveText(/^\d+\.\d%$/);
    await expect(row.locator('time')).not.toBeEmpty();
    await expect(row).toContainText('prompt');
  }
  const olderId = (await older.getAttribute('data-run-id'))!;
  const newerId = (await newer.getAttribute('data-run-id'))!;

  // Open the older run: its curves and figures, read-only.
  await older.getByTestId('open-run').click();
  const detail = page.getByTestId('run-detail');
  await expect(detail).toHaveAttribute('data-run-id', olderId);
  await expect(detail).toHaveAttribute('data-points', '10');
  await expect(page.getByTestId('history-chart')).toHaveAttribute('data-points', '10');
  await expect(page.getByTestId('history-chart')).toHaveAttribute('data-evaluations', '2');
  await expect(detail.getByTestId('detail-best')).toHaveText((await older.getByTestId('run-best').textContent())!);
  await expect(detail).toContainText('sms_spam-sample.csv');
  // The live chart is untouched.
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', '15');

  // Compare both (chosen from the keyboard): one chart, the union of their steps.
  await older.getByTestId('compare-select').focus();
  await page.keyboard.press('Space');
  await newer.getByTestId('compare-select').focus();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('compare-runs')).toBeEnabled();
  await page.getByTestId('compare-runs').click();
  const compareChart = page.getByTestId('compare-chart');
  await expect(compareChart).toHaveAttribute('data-runs', `${olderId} ${newerId}`);
  await expect(compareChart).toHaveAttribute('data-points', '15');
  await expect(compareChart).toHaveAttribute('data-points-a', '10');
  await expect(compareChart).toHaveAttribute('data-points-b', '15');
  await expect(compareChart.locator('canvas')).toHaveCount(1);
  await screenshotOf(page.getByTestId('run-history'), 'history-1-open-and-compare');

  // Rename from the keyboard: Enter opens the field, Enter saves; Escape cancels; an empty name is refused in place.
  await newer.getByTestId('rename-run').focus();
  await page.keyboard.press('Enter');
  await expect(newer.getByTestId('rename-input')).toBeFocused();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('spam, six tokens');
  await page.keyboard.press('Enter');
  await expect(newer.getByTestId('run-name')).toHaveText('spam, six tokens');
  await older.getByTestId('rename-run').click();
  await older.getByTestId('rename-input').fill('not this');
  await page.keyboard.press('Escape');
  await expect(older.getByTestId('run-name')).toHaveText('sms_spam-sample, prompt, 4 tokens');
  await older.getByTestId('rename-run').click();
  await older.getByTestId('rename-input').fill('   ');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('history-row-error')).toHaveText('A run needs a name.');
  await older.getByTestId('rename-input').press('Escape');

  // Export the renamed run as JSON (record and whole history), and its checkpoint.
  const [json] = await Promise.all([page.waitForEvent('download'), newer.getByTestId('export-run').click()]);
  expect(json.suggestedFilename()).toBe('spam_six_tokens.run.json');
  const exported = JSON.parse(readFileSync(await json.path(), 'utf8'));
  expect(exported.format).toBe('prompt-tuning-studio-run');
  expect(exported.run).toMatchObject({ id: newerId, name: 'spam, six tokens', status: 'completed', labels: ['ham', 'spam'] });
  expect(exported.run.config).toMatchObject({ steps: 15, numVirtualTokens: 6 });
  expect(exported.run.data).toMatchObject({ fileName: 'sms_spam-sample.csv', mapping: { labelColumn: 'label', textColumns: ['text'] } });
  expect(exported.events.filter((e: { kind: string }) => e.kind === 'step')).toHaveLength(15);
  expect(exported.events.filter((e: { kind: string }) => e.kind === 'baseline').map((e: { data: { variant: string } }) => e.data.variant)).toEqual(['zero-shot', 'text']);
  const [checkpoint] = await Promise.all([page.waitForEvent('download'), newer.getByTestId('export-checkpoint').click()]);
  expect(checkpoint.suggestedFilename()).toBe('spam_six_tokens-step15.checkpoint.safetensors');
  const bytes = readFileSync(await checkpoint.path());
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  expect(Object.keys(header).length).toBeGreaterThan(1);
  await expect(page.getByTestId('history-exported')).toContainText('spam_six_tokens-step15.checkpoint.safetensors');

  // Delete the older run from the keyboard, after a confirmation that takes the focus.
  await older.getByTestId('delete-run').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('confirm-delete')).toContainText('sms_spam-sample, prompt, 4 tokens');
  await expect(page.getByTestId('confirm-delete-yes')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId('run-detail')).toHaveCount(0);
  await expect(page.getByTestId('history-comparison')).toHaveCount(0);

  // All of it is stored: after a reload, the one run with its new name, nothing to resume.
  await page.reload();
  await waitForModel(page);
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('run-name')).toHaveText('spam, six tokens');
  await expect(page.getByTestId('resume-offer')).toHaveCount(0);
  expect((await storedRuns(page)).map((r) => r.id)).toEqual([newerId]);
  expect(errors).toEqual([]);
});
