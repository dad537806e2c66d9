/**
 * The Data step counts each text in the loaded model's own tokens, through the template: the
 * figures the page shows are those of the model's tokenizer in Node, they follow the template
 * and the max length, and the texts it says the max length cuts are the ones the run cuts.
 * The Method step says what a run will hold in memory, or why the engine refuses it, before Train.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { buildDataset, DEFAULT_SPLIT, guessMapping, parseCsv } from '../src/data';
import { TextTokenizer } from '../src/tokenizer/tokenizer';
import { cutByMaxLength, lengthCapFor, lengthQuantile, measureTokenLengths, suggestedMaxLength } from '../src/tuning/tokenLengths';
import { numberAttribute, repoRoot, sampleLabeledCsv, waitForModel } from './helpers';
import { QUICK_RUN, setSetting, setSettings, smsSpam, trainStatus } from './runHelpers';

const modelDir = path.join(repoRoot, 'public', 'models', 'stories260K');
const tokenizer = TextTokenizer.fromJson(
  JSON.parse(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')) as object,
  JSON.parse(readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8')) as object,
);

test('the Data step counts texts in the model\'s tokens; what it says the max length cuts is what the run cuts', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  const file = sampleLabeledCsv(smsSpam, 30);
  const table = parseCsv(readFileSync(file, 'utf8'));
  const dataset = buildDataset(table, guessMapping(table), DEFAULT_SPLIT);
  const figures = (template: string) => {
    const lengths = measureTokenLengths(tokenizer, dataset, template);
    const all = [...lengths.train, ...lengths.validation].sort((a, b) => a - b);
    return { lengths, median: lengthQuantile(all, 0.5), within95: lengthQuantile(all, 0.95), longest: all[all.length - 1] };
  };
  const plain = figures('{text}\nLabel:');

  await page.getByTestId('csv-input').setInputFiles(file);
  const line = page.getByTestId('token-lengths');
  await expect(line).toContainText(`Text lengths in this model's tokens, template included: median ${plain.median}, 95% within ${plain.within95}, `
    + `the longest ${plain.longest}. The max length (128) cuts`);
  await expect(page.getByTestId('cut-by-max-length').first()).toHaveAttribute('data-cut', String(cutByMaxLength(plain.lengths, 128).cut));
  // Raised past the longest, it cuts none.
  await setSettings(page, { maxLength: plain.longest });
  await expect(line).toContainText(`The max length (${plain.longest}) cuts none of them.`);
  await expect(line).not.toHaveClass(/warning/);

  // A longer template: every text gets its tokens.
  const template = 'A text message from a phone:\n{text}\nIs it spam? Label:';
  const longer = figures(template);
  expect(longer.median).toBeGreaterThan(plain.median + 5);
  await setSettings(page, { template });
  await expect.poll(() => numberAttribute(page, 'token-lengths', 'data-median')).toBe(longer.median);
  await expect(page.getByTestId('token-lengths')).toHaveAttribute('data-longest', String(longer.longest));

  // A max length the template alone fills: the engine refuses it in the Method step, before Train.
  await setSettings(page, { maxLength: 4 });
  await expect(page.getByTestId('run-plan-refusal')).toContainText('The max length (4 tokens) is below the template\'s own length');
  await expect(page.getByTestId('run-plan')).toHaveCount(0);

  // A max length at the median cuts about half of them: a warning, with the max length that keeps 99% whole, here and beside the field.
  const maxLength = longer.median;
  const { cut } = cutByMaxLength(longer.lengths, maxLength);
  expect(cut).toBeGreaterThan(10);
  const positions = 512; // stories260K's
  const suggestion = suggestedMaxLength(longer.lengths, 0.99, positions - QUICK_RUN.numVirtualTokens - 1)!;
  expect(suggestion.limitedByRoom).toBe(false);
  expect(suggestion.maxLength).toBeGreaterThan(maxLength);
  const cutLine = `The max length (${maxLength}) cuts ${cut} of ${dataset.examples.length} (${Math.round((100 * cut) / dataset.examples.length)}%).`;
  await setSettings(page, { ...QUICK_RUN, maxLength, steps: 2, evalEvery: 100, projectEvery: 100, checkpointEvery: 100 });
  await expect(line).toHaveClass(/warning/);
  await expect(line).toContainText(`${cutLine} To keep 99% whole: max length ${suggestion.maxLength} (Method › Advanced; a longer batch takes longer). Use ${suggestion.maxLength}`);
  await expect(page.getByTestId('max-length-note')).toHaveText(`${cutLine} To keep 99% whole: max length ${suggestion.maxLength} (a longer batch takes longer). Use ${suggestion.maxLength}`);

  // So many virtual tokens that the model's positions leave less room than that: the room, and what it keeps.
  const room = Math.floor((maxLength + suggestion.maxLength) / 2);
  const virtualTokens = positions - 1 - room;
  const limited = suggestedMaxLength(longer.lengths, 0.99, room)!;
  expect(limited).toMatchObject({ maxLength: room, limitedByRoom: true });
  await setSettings(page, { numVirtualTokens: virtualTokens });
  await expect(page.getByTestId('max-length-note')).toHaveText(`${cutLine} The model's ${positions} positions leave room for a max length of ${room} `
    + `with ${virtualTokens} virtual tokens, which keeps ${Math.round(limited.keeps * 100)}% whole (a longer batch takes longer). Use ${room}`);
  await setSettings(page, { numVirtualTokens: QUICK_RUN.numVirtualTokens });
  await expect(page.getByTestId('max-length-note')).toContainText('To keep 99% whole');

  // What the run will hold in memory, said before it starts: the plan the run then reports.
  await expect(page.getByTestId('run-plan-refusal')).toHaveCount(0);
  await expect(page.getByTestId('run-plan')).toHaveText(/^Memory: about [\d.]+ [KMG]?B at peak, of the [\d.]+ [MG]B the wasm backend may hold here\./);
  const plan = await page.getByTestId('run-plan').textContent();

  // The run cuts exactly those.
  await page.getByTestId('start-training').click();
  await expect(page.getByTestId('run-memory')).toHaveText(plan!);
  await expect(page.getByText(`${cut} examples were longer than the max length and cut.`)).toBeVisible();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });

  // The suggestion in one click: the max length becomes the one that keeps 99% whole, and the line says what that cuts.
  await line.getByTestId('use-max-length').click();
  await expect(page.getByTestId('setting-maxLength')).toHaveValue(String(suggestion.maxLength));
  const after = cutByMaxLength(longer.lengths, suggestion.maxLength).cut;
  await expect(line).toContainText(after === 0 ? `The max length (${suggestion.maxLength}) cuts none of them.` : `The max length (${suggestion.maxLength}) cuts ${after} of`);
  await expect(line).not.toHaveClass(/warning/);
  await expect(line.getByTestId('use-max-length')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('texts past 4,096 tokens: a max length that long has them counted further, and what it cuts told apart', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  // Long documents, about 2k to 12k tokens with this tokenizer.
  const rows = [200, 450, 700, 950, 1200].map((n, i) => ({ text: 'The cat sat on the mat. '.repeat(n), label: i % 2 ? 'a' : 'b' }));
  const csv = ['text,label', ...rows.map((r) => `"${r.text}",${r.label}`)].join('\n');
  const dataset = buildDataset(parseCsv(csv), guessMapping(parseCsv(csv)), DEFAULT_SPLIT);
  await page.getByTestId('csv-input').setInputFiles({ name: 'documents.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const line = page.getByTestId('token-lengths');
  await expect(line).toContainText('the longest 4,096 or more');
  await setSettings(page, { batchSize: 2 });
  for (const maxLength of [6000, 9000]) {
    const lengths = measureTokenLengths(tokenizer, dataset, '{text}\nLabel:', undefined, lengthCapFor(maxLength));
    const { cut } = cutByMaxLength(lengths, maxLength);
    // Past this model's 512 positions the engine refuses the run (a long-context model takes it); the counts follow it all the same.
    await setSetting(page, 'maxLength', maxLength);
    await expect(page.getByTestId('run-plan-refusal')).toContainText(`max length (${maxLength}) + the longest label`);
    const longest = Math.max(...lengths.train, ...lengths.validation);
    await expect(line).toContainText(`the longest ${longest >= lengths.cap ? `${lengths.cap.toLocaleString('en')} or more` : longest}.`);
    await expect(line).toContainText(`The max length (${maxLength}) cuts ${cut} of 5`);
  }
});
