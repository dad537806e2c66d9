/**
 * A generation task in the page (wasm): a CSV whose labels are free text, one per row. The
 * data step says so and draws no bar per label (many classes get their 24 largest), the Method step's verbalizer is a
 * sentence, the run scores each example against its own target (exact match), Inspect shows
 * no confusion matrix, the playground shows what the model writes without label
 * probabilities, and the predictions CSV lists each target and whether it was written.
 */
import { expect, test } from '@playwright/test';
import Papa from 'papaparse';
import { waitForModel } from './helpers';
import { QUICK_RUN, setSettings, trainStatus } from './runHelpers';

const NAMES = ['Lily', 'Tom', 'Ben', 'Sue', 'Max', 'Mia'];
const THINGS = ['ball', 'cat', 'dog', 'tree', 'car', 'cake', 'book', 'hat'];

test('free-text targets: exact match per example, no label ranked, the continuation is the answer', async ({ page }) => {
  test.setTimeout(600_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  // Many classes, each repeated (6 rows each): still classes, their bars the 24 most frequent.
  const classes = Array.from({ length: 240 }, (_, i) => [`message ${i}`, `class ${i % 40}`]);
  await page.getByTestId('csv-input').setInputFiles({ name: 'classes.csv', mimeType: 'text/csv', buffer: Buffer.from(Papa.unparse([['text', 'label'], ...classes])) });
  await expect(page.getByTestId('dataset-summary')).toContainText('40 labels');
  await expect(page.getByTestId('label-bars').locator('li')).toHaveCount(24);
  await expect(page.getByTestId('label-bars-more')).toHaveText('and 16 more labels, each with at most 6 examples');
  await expect(page.getByTestId('free-text-labels')).toHaveCount(0);

  const rows = Array.from({ length: 80 }, (_, i) => {
    const name = NAMES[i % NAMES.length];
    const thing = THINGS[Math.floor(i / NAMES.length) % THINGS.length];
    return [`On day ${i + 1}, ${name} found a ${thing}.`, `${name} was happy with the ${thing} number ${i + 1}.`];
  });
  await page.getByTestId('csv-input').setInputFiles({ name: 'stories.csv', mimeType: 'text/csv', buffer: Buffer.from(Papa.unparse([['text', 'label'], ...rows])) });
  await expect(page.getByTestId('dataset-summary')).toContainText('80 labels');
  await expect(page.getByTestId('free-text-labels')).toContainText('The labels look like free text');
  await expect(page.getByTestId('label-bars')).toHaveCount(0); // 80 bars of one example each would say nothing
  await expect(page.getByTestId('validation-count')).toHaveText('16'); // a fifth, split at random: no target is held out alone
  await expect(page.getByTestId('verbalizer-free-text')).toContainText('Each example\'s target (80 distinct)');
  await expect(page.getByTestId('verbalizer')).toHaveCount(0);

  await setSettings(page, { ...QUICK_RUN, steps: 5 });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 300_000 });
  await expect(page.getByTestId('scoring-note')).toContainText('Scoring each example against its own target (80 distinct labels, taken as free text)');
  const headline = page.getByTestId('headline');
  await expect(headline).toHaveAttribute('data-scoring', 'target');
  await expect(headline.locator('dt').first()).toHaveText('Validation exact match');
  await expect(page.getByTestId('validation-accuracy')).toHaveText(/%$/);
  await expect(page.getByTestId('majority-accuracy')).toHaveCount(0);
  await expect(page.getByTestId('generation-accuracy')).toHaveCount(0); // the accuracy is that exact match already
  await expect(page.getByTestId('no-confusion')).toBeVisible();

  await page.getByTestId('playground-input').fill('On day 3, Ben found a cake.');
  await page.getByTestId('playground-input').press('Control+Enter');
  const soft = page.getByTestId('playground-continuations').locator('[data-variant="soft"]');
  await expect(soft).toHaveAttribute('data-text', /./s);
  await expect(page.getByTestId('playground-result')).toHaveCount(0);
  // As long as the longest target ("Mia was happy with the cake number 80." is more than 8 of this model's tokens).
  const tokens = Number((await page.getByTestId('playground-continuations').locator('.help').textContent())?.match(/Greedy, up to (\d+) tokens/)?.[1]);
  expect(tokens).toBeGreaterThan(8);
  expect(tokens).toBeLessThanOrEqual(64);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-predictions').click()]);
  const chunks: Buffer[] = [];
  for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
  const table = Papa.parse<Record<string, string>>(Buffer.concat(chunks).toString('utf8').trim(), { header: true }).data;
  expect(table).toHaveLength(12); // the evaluation's examples (QUICK_RUN scores 12)
  expect(Object.keys(table[0])).toEqual(['line', 'text', 'target', 'writes_target', 'target_nll']);
  for (const row of table) {
    expect(rows.map((r) => r[1])).toContain(row.target);
    expect(['yes', 'no']).toContain(row.writes_target);
    expect(Number(row.target_nll)).toBeGreaterThan(0);
  }
  expect(errors).toEqual([]);
});
