/**
 * A multitask prompt in the page (wasm): a CSV whose task column splits it into two tasks with
 * labels of their own, trained with multitask prompt tuning; the playground then predicts for
 * the task chosen — its prompt, only its labels — and says what the model writes after the text
 * (by its button, and by Ctrl+Enter in the text).
 */
import { expect, test, type Page } from '@playwright/test';
import Papa from 'papaparse';
import { waitForModel } from './helpers';
import { QUICK_RUN, setSettings, trainStatus } from './runHelpers';

const SPAM = [
  ['WINNER!! Claim your free prize now, call 09061701461', 'spam'], ['URGENT! Your account will be closed, reply today', 'spam'],
  ['Txt YES to 80082 to win a holiday', 'spam'], ['Free entry in a weekly draw, text WIN now', 'spam'],
  ['See you at lunch tomorrow', 'ham'], ['Can you pick up milk on the way home', 'ham'],
  ['Running late, be there in ten', 'ham'], ['Thanks for dinner last night', 'ham'],
];
const MOOD = [
  ['I love this sunny day', 'happy'], ['What a wonderful gift', 'happy'], ['This is great news', 'happy'], ['I am so glad you came', 'happy'],
  ['I lost my keys again', 'sad'], ['The rain ruined the picnic', 'sad'], ['I feel awful today', 'sad'], ['Nothing went right', 'sad'],
];

async function shownLabels(page: Page): Promise<string[]> {
  const rows = page.getByTestId('playground-result').locator('tbody tr');
  await expect(rows.first()).toHaveAttribute('data-soft', /\d/);
  return Promise.all((await rows.all()).map(async (r) => (await r.getAttribute('data-label'))!));
}

test('multitask: the playground predicts for the chosen task, with its prompt and only its labels', async ({ page }) => {
  test.setTimeout(600_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  const rows = [...SPAM.map((r) => [...r, 'spam']), ...MOOD.map((r) => [...r, 'mood'])];
  const csv = Papa.unparse([['text', 'label', 'task'], ...rows, ...rows]);
  await page.getByTestId('csv-input').setInputFiles({ name: 'two-tasks.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect(page.getByTestId('dataset-summary')).toBeVisible();
  await page.getByTestId('task-column').selectOption('task');
  await page.getByTestId('setting-method').selectOption('multitask');
  await setSettings(page, { ...QUICK_RUN, steps: 10 });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 300_000 });

  const task = page.getByTestId('playground-task');
  await expect(task.locator('option')).toHaveText(['mood', 'spam']);
  await page.getByTestId('playground-input').fill('I got a free prize today');
  await task.selectOption('mood');
  await page.getByTestId('playground-predict').click();
  expect((await shownLabels(page)).sort()).toEqual(['happy', 'sad']);
  const mood = await page.getByTestId('playground-continuations').locator('[data-variant="soft"]').getAttribute('data-text');
  expect(mood).not.toBeNull();

  // Another task: the previous result goes, and the next shows that task's labels.
  await task.selectOption('spam');
  await expect(page.getByTestId('playground-result')).toHaveCount(0);
  // Ctrl+Enter in the text predicts, as the button does.
  await page.getByTestId('playground-input').press('Control+Enter');
  expect((await shownLabels(page)).sort()).toEqual(['ham', 'spam']);
  await expect(page.getByTestId('playground-continuations').locator('[data-variant="soft"]')).toHaveAttribute('data-text', /./s);
  expect(errors).toEqual([]);
});
