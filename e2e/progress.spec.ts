/**
 * Progress inside a step and an evaluation, in the page: on wasm a real-size model's step
 * takes minutes, so the bar moves layer by layer and a line says where the step (or the
 * evaluation) is. The engine sends these only once a step has run a second; the test hook
 * lets every report through, so the default model's quick steps show them too.
 */
import { expect, test } from '@playwright/test';
import { waitForModel } from './helpers';
import { currentStep, QUICK_RUN, setSettings, studioWorker, trainStatus, uploadSample } from './runHelpers';

type TestHooks = { __studioTest: { reportAllProgress(): void; treatEveryModelAsLarge(): void } };
type Sample = { value: number; max: number; text: string; step: number; stepTime: string; left: string };

/** Registered before the page loads: every state of the training bar and the activity line. */
function recordTrainProgress(): void {
  const w = window as unknown as { __trainProgress: Sample[] };
  w.__trainProgress = [];
  setInterval(() => {
    const bar = document.querySelector('[data-testid="train-progress"] progress') as HTMLProgressElement | null;
    const line = document.querySelector('[data-testid="train-activity"]');
    const step = Number(document.querySelector('[data-testid="train-progress"]')?.getAttribute('data-step') ?? 0);
    if (!bar || !line) return;
    const figure = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
    const sample = { value: bar.value, max: bar.max, text: line.textContent ?? '', step, stepTime: figure('step-time'), left: figure('eta') };
    const last = w.__trainProgress.at(-1);
    if (!last || last.value !== sample.value || last.text !== sample.text || last.left !== sample.left) w.__trainProgress.push(sample);
  }, 2);
}

test('a step moves the bar layer by layer and says where it is; an evaluation counts its examples', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(recordTrainProgress);
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  await uploadSample(page, 30);
  const worker = await studioWorker(page);
  await worker.evaluate(() => (self as unknown as TestHooks).__studioTest.reportAllProgress());
  // Larger batches than QUICK_RUN's, so that steps and evaluations last a few frames.
  await setSettings(page, { ...QUICK_RUN, steps: 6, batchSize: 16, maxLength: 64, evalEvery: 3, maxEvalExamples: 15, evalBatchSize: 1 });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 180_000 });

  const samples = await page.evaluate(() => (window as unknown as { __trainProgress: Sample[] }).__trainProgress);
  const texts = samples.map((s) => s.text).filter(Boolean);
  console.log(`  ${samples.length} states of the bar and line, e.g. ${JSON.stringify(texts.slice(0, 3))}`);
  const stepLine = /^Step (\d+): (forward|backward) pass, (\d+) of (\d+) layers \((\d+)%\)$/;
  const stepLines = texts.filter((t) => stepLine.test(t));
  expect(stepLines.length, JSON.stringify(texts)).toBeGreaterThan(0);
  for (const t of stepLines) {
    const [, step, , done, layers] = stepLine.exec(t)!.map(Number);
    expect(step).toBeGreaterThanOrEqual(1);
    expect(step).toBeLessThanOrEqual(6);
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThanOrEqual(layers);
  }
  // A step under way is the one after the last reported: the bar stands between them.
  const within = samples.filter((s) => stepLine.test(s.text) && Number(stepLine.exec(s.text)![1]) === s.step + 1);
  expect(within.length).toBeGreaterThan(0);
  expect(within.some((s) => s.value > s.step && s.value < s.step + 1)).toBe(true);
  // Before the pace is known (step 2), the step under way gives a first step time and time left.
  const early = samples.filter((s) => s.step < 2 && s.stepTime.startsWith('≈'));
  expect(early.length, JSON.stringify(samples.slice(0, 30))).toBeGreaterThan(0);
  expect(early.every((s) => /^≈ [\d.]+ s$/.test(s.stepTime) && s.left.startsWith('≈ '))).toBe(true);
  // Then, until the time left has its three steps, the known pace gives a first one: never "estimating…".
  const second = samples.filter((s) => s.step === 2);
  expect(second.length).toBeGreaterThan(0);
  expect(second.every((s) => s.left.startsWith('≈ ')), JSON.stringify(second)).toBe(true);
  // Never backwards, never past the end.
  for (let i = 1; i < samples.length; i++) expect(samples[i].value).toBeGreaterThanOrEqual(samples[i - 1].value);
  expect(samples.every((s) => s.value <= s.max)).toBe(true);
  // The evaluations (the prompt at steps 3 and 6, the baselines, the discrete projection) count the evaluation set's examples.
  const scoringLine = /^Scoring (.+): (\d+) of (\d+) validation examples$/;
  const scoring = texts.filter((t) => scoringLine.test(t)).map((t) => scoringLine.exec(t)!);
  const what = [...new Set(scoring.map(([, w]) => w))];
  expect(what.sort(), JSON.stringify(texts)).toEqual([
    'the discrete projection', 'the prompt of step 3', 'the prompt of step 6', 'the text-prompt baseline', 'the zero-shot baseline (no prompt)',
  ]);
  const validation = Number(scoring[0][3]);
  expect(validation).toBeLessThanOrEqual(15);
  expect(scoring.every(([, , done, total]) => Number(total) === validation && Number(done) >= 1 && Number(done) <= validation)).toBe(true);
  // Done: nothing under way any more.
  await expect(page.getByTestId('train-activity')).toHaveText('');
  await expect(page.locator('[data-testid="train-progress"] progress')).toHaveJSProperty('value', 6);
  expect(errors).toEqual([]);
});

test('Pause during a step ends it between its layers: the run pauses at the step before, and resumes from there', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true); // the shared flag needs it
  await uploadSample(page, 30);
  const worker = await studioWorker(page);
  await worker.evaluate(() => (self as unknown as TestHooks).__studioTest.reportAllProgress());
  // Steps long enough (about a second here) that a click lands inside one.
  await setSettings(page, { ...QUICK_RUN, steps: 40, batchSize: 48, maxLength: 128, evalEvery: 1000, projectEvery: 1000, checkpointEvery: 1000 });
  await page.getByTestId('start-training').click();
  const line = page.getByTestId('train-activity');
  // Watched every frame: a forward pass lasts a fraction of a second, and expect's poll,
  // once a second after the first few, can miss it step after step. Any forward pass
  // leaves the whole backward for the click to land in.
  const forward = await page.waitForFunction(() => {
    const text = document.querySelector('[data-testid="train-activity"]')?.textContent ?? '';
    const match = /^Step (\d+): forward pass, \d+ of \d+ layers/.exec(text);
    return match && Number(match[1]) >= 3 ? Number(match[1]) : null;
  }, null, { polling: 'raf', timeout: 120_000 });
  const under = (await forward.jsonValue()) as number;
  await page.getByTestId('pause-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-phase', 'paused');
  // Without the flag the step under way would have run to its end first.
  await expect(page.getByTestId('train-progress')).toHaveAttribute('data-step', String(under - 1));
  await expect(trainStatus(page)).toHaveText(`Paused at step ${under - 1}.`);
  await expect(line).toHaveText('');
  // Resumed, the abandoned step is taken again: one continuous curve.
  await page.getByTestId('resume-training').click();
  await expect.poll(() => currentStep(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(under + 1);
  await page.getByTestId('stop-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 60_000 });
  const chart = page.getByTestId('loss-chart');
  const last = await currentStep(page);
  await expect(chart).toHaveAttribute('data-points', String(last));
  await expect(chart).toHaveAttribute('data-last-step', String(last));
  expect(errors).toEqual([]);
});

test('a large model: settings suggested, a first look offered, its step time estimated from this machine\'s matmul speed until a first step replaces it', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm');
  await waitForModel(page);
  const estimate = page.getByTestId('step-estimate');
  await uploadSample(page, 30);
  // The default model (260K parameters) gets none: its first step comes within a second.
  await expect(estimate).toHaveText('The time per step on this machine appears here once a step has run.');
  await expect(page.getByTestId('ready-to-train')).toContainText('The defaults are a good first run; the first accuracy shows within a minute.');
  await expect(trainStatus(page)).toHaveText('Not started. The defaults are a good first run.');
  // Loaded again as a large model would be: the engine measures the matmul rate as it loads.
  const worker = await studioWorker(page);
  await worker.evaluate(() => (self as unknown as TestHooks).__studioTest.treatEveryModelAsLarge());
  await page.getByText('Load another model').click();
  await page.getByRole('radio', { name: 'URL' }).check();
  await page.getByTestId('model-url').fill(new URL('/models/stories260K/', page.url()).href);
  await page.getByTestId('model-url').press('Enter');
  const duration = '(?:[\\d.]+ s|\\d+ min \\d+ s|\\d+ h \\d+ min)';
  // At the data's lengths, counted in the model's tokens (a batch is as wide as its longest text).
  await expect(estimate).toHaveText(new RegExp(`^Estimated before any step has run, on wasm: about ${duration} per step at this data's lengths `
    + `\\(a batch about \\d+ tokens wide, label and padding included\\), so 300 steps take about ${duration}, and the 11 evaluations of \\d+ validation examples \\(the baselines and the `
    + `discrete projection included\\) about ${duration} more\\. From the model's size and this machine's matmul speed `
    + '\\(\\d+ GFLOP/s\\); the first step\'s measured time replaces it\\.$'));
  await expect(page.getByTestId('dataset-summary')).toBeVisible(); // the data stays with a new model
  // Ready to train says what the first accuracy costs now (at step 10: the default 50's first fifth).
  await expect(page.getByTestId('large-model-note')).toHaveText(new RegExp('^The defaults are tuned for the small default model; with this 260K-parameter '
    + `model a step takes about ${duration} here \\(estimated\\), so the first accuracy comes after step 10 and its evaluation, in about ${duration}\\. `
    + 'Step 3 suggests settings for it\\.$'));
  await expect(trainStatus(page)).toHaveText('Not started. Step 3 suggests settings for this model.');
  await expect(page.getByTestId('model-suggestion').getByRole('button')).toHaveText('Use batch 8, max length 128');
  const estimated = async () => Number(await estimate.getAttribute('data-estimated-ms'));
  const atBatch16 = await estimated();
  const width16 = Number(await estimate.getAttribute('data-batch-width'));
  expect(atBatch16).toBeGreaterThan(0);
  expect(width16).toBeGreaterThan(8);
  // It follows the settings: twice the batch at these rows is twice the work, and a little more as a larger batch more often holds a long text.
  await setSettings(page, { batchSize: 32 });
  await expect.poll(estimated).toBeGreaterThan(1.9 * atBatch16);
  const width32 = Number(await estimate.getAttribute('data-batch-width'));
  expect(width32).toBeGreaterThanOrEqual(width16);
  expect(await estimated()).toBeLessThan(2.1 * atBatch16 * (width32 / width16) ** 2);
  // A first look, offered with its time, in one click.
  const firstLook = page.getByTestId('first-look');
  await expect(firstLook).toHaveText(new RegExp('^For a first look sooner: 50 steps at batch 4 and max length 64, scoring 100 validation examples: '
    + `about ${duration} here, its 6 evaluations included \\(estimated\\)\\. Use the first-look settings$`));
  await firstLook.getByRole('button', { name: 'Use the first-look settings' }).click();
  await expect(firstLook).toContainText('These settings are in use.');
  for (const [key, value] of [['steps', '50'], ['batchSize', '4'], ['maxLength', '64'], ['maxEvalExamples', '100']]) {
    await expect(page.getByTestId(`setting-${key}`)).toHaveValue(value);
  }
  await expect(estimate).toContainText('so 50 steps take about');
  await setSettings(page, { ...QUICK_RUN, steps: 3 });
  await page.getByTestId('start-training').click();
  await expect(estimate).toHaveText(/^Measured on wasm: [\d.]+ s per step \(batch 4, max length 32, 4 virtual tokens\)\. So 3 steps take about/);
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });
  expect(errors).toEqual([]);
});
