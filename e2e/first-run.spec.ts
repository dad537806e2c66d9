/**
 * The first ten minutes, as a newcomer meets them in Chromium on this machine (wasm): plain
 * words first, a sample in one click, Train, a first validation accuracy within the minute
 * (the test prints how long it took; timing is reported, not asserted), the baselines it must
 * beat, a pause that shows real figures and is saved, and the files Python needs. Then the
 * same start on a phone's width.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import { formatBytes } from '../src/ui/format';
import { repoRoot, screenshot, waitForModel } from './helpers';

async function downloadOf(page: Page, testId: string): Promise<{ name: string; bytes: Uint8Array }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { name: download.suggestedFilename(), bytes: new Uint8Array(Buffer.concat(chunks)) };
}

/** Whether any two of these boxes overlap (they are laid out side by side or wrapped, never on top of each other). */
async function overlapping(items: Locator): Promise<string[]> {
  const boxes = await items.evaluateAll((els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { x: r.left, y: r.top, right: r.right, bottom: r.bottom, text: (e.textContent ?? '').slice(0, 20) };
  }));
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.x < b.right - 0.5 && b.x < a.right - 0.5 && a.y < b.bottom - 0.5 && b.y < a.bottom - 0.5) out.push(`${a.text} / ${b.text}`);
    }
  }
  return out;
}

test.describe('the first ten minutes', () => {
  test('a sample, Train, a first accuracy within the minute, the baselines, a saved pause, the files for Python', async ({ page }) => {
    test.setTimeout(900_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/?backend=wasm');
    await waitForModel(page);

    // Plain words first: what the model is and can do; the backend's reasons one click away.
    const intro = page.getByTestId('model-intro');
    await expect(intro).toContainText('260K-parameter story model');
    await expect(intro).toContainText('spam or not');
    await expect(intro).toContainText('bring a bigger model');
    await expect(page.getByTestId('model-facts')).toBeHidden();
    // Method: only method, virtual tokens and steps until "Advanced" is opened.
    for (const key of ['method', 'numVirtualTokens', 'steps']) await expect(page.getByTestId(`setting-${key}`)).toBeVisible();
    for (const key of ['learningRate', 'batchSize', 'template', 'evalEvery']) await expect(page.getByTestId(`setting-${key}`)).toBeHidden();

    // The template to start one's own file from.
    const template = await page.request.get(await page.getByTestId('csv-template').getAttribute('href') ?? '');
    expect((await template.text()).split('\r\n')[0]).toBe('text,label');

    // One click: loaded, mapped, split, ready to train.
    await page.getByTestId('sample-spam').click();
    await expect(page.getByTestId('dataset-summary')).toBeVisible();
    await expect(page.getByTestId('train-count')).toHaveText('240');
    await expect(page.getByTestId('validation-count')).toHaveText('60');
    await expect(page.getByTestId('ready-to-train')).toBeVisible();
    await screenshot(page, 'first-run-1-sample');

    const pressed = Date.now();
    await page.getByTestId('train-now').click();
    // The Train panel is brought into view.
    await expect(page.locator('#step-train')).toBeInViewport();
    await expect.poll(async () => Number(await page.getByTestId('train-progress').getAttribute('data-step')), { timeout: 300_000 }).toBeGreaterThanOrEqual(1);
    const firstStep = (Date.now() - pressed) / 1000;
    await expect(page.getByTestId('validation-accuracy')).toHaveText(/%$/, { timeout: 600_000 });
    // Beside the ranked accuracy, how often greedy decoding writes the label (model.generate's answer).
    await expect(page.getByTestId('generation-accuracy')).toHaveText(/^writes the label: \d+\.\d%$/);
    const firstAccuracy = (Date.now() - pressed) / 1000;
    const at = await page.getByTestId('headline').locator('dd.small').first().textContent();
    console.log(`  Train pressed → first step ${firstStep.toFixed(1)} s, first validation accuracy ${firstAccuracy.toFixed(1)} s (${at}; wasm, this machine)`);
    expect(at).toMatch(/^step \d+, 60 examples$/);

    // The baselines still arrive: zero-shot beside the majority class (spam is 60% ham), with
    // macro-F1 since the classes are uneven.
    await expect(page.getByTestId('zero-shot-accuracy')).toHaveText(/%$/, { timeout: 300_000 });
    console.log(`  baselines on screen after ${((Date.now() - pressed) / 1000).toFixed(1)} s`);
    await expect(page.getByTestId('majority-accuracy')).toHaveText('60.0%');
    await expect(page.getByTestId('majority-accuracy')).toHaveAttribute('data-label', 'ham');
    await expect(page.getByTestId('headline').getByText(/^macro-F1 /)).toHaveCount(3);
    await expect(page.getByTestId('comparison').locator('[data-variant="majority"]')).toHaveAttribute('data-value', '0.6');

    // Pause: real figures (not ~0 s and a huge tokens/s), no time running out, a checkpoint of this very step.
    await page.getByTestId('pause-training').click();
    await expect(page.getByTestId('train-status')).toHaveAttribute('data-phase', 'paused', { timeout: 120_000 });
    const pausedAt = Number(await page.getByTestId('train-progress').getAttribute('data-step'));
    await expect(page.getByTestId('eta')).toHaveText('paused');
    const stepTime = (await page.getByTestId('step-time').textContent()) ?? '';
    const tokensPerSecond = Number((await page.getByTestId('tokens-per-second').textContent())?.replace(/,/g, ''));
    console.log(`  paused at step ${pausedAt}: ${stepTime} per step, ${tokensPerSecond} tokens/s`);
    expect(stepTime).not.toBe('0.0 s');
    expect(tokensPerSecond).toBeGreaterThan(0);
    expect(tokensPerSecond).toBeLessThan(20_000);
    await expect(page.getByTestId('run-saved')).toHaveAttribute('data-checkpoint-step', String(pausedAt));
    await expect(page.getByTestId('run-saved')).toContainText(`a checkpoint of step ${pausedAt}: a resume goes on from there`);
    // The chart's legend shows the latest values, not "--", without hovering.
    const legend = await page.locator('[data-testid="loss-chart"] .u-legend .u-value').allTextContents();
    expect(legend.slice(0, 3).every((v) => v !== '--' && v !== '')).toBe(true);
    await screenshot(page, 'first-run-2-paused');

    // The files for Python: the base model in Hugging Face layout, float32, in the folder the adapter names.
    // The studio keeps only the backend's copy of the weights, so the download reads the files again: every
    // state of its progress bar is recorded (a DOM observer, nothing missed between polls).
    await page.evaluate(() => {
      const w = window as unknown as { __baseModelProgress: { text: string; value: number; max: number }[] };
      w.__baseModelProgress = [];
      new MutationObserver(() => {
        const row = document.querySelector('[data-testid="base-model-progress"]');
        const bar = row?.querySelector('progress');
        if (!row || !bar) return;
        const sample = { text: row.querySelector('.progress-text')?.textContent ?? '', value: bar.value, max: bar.max };
        const last = w.__baseModelProgress[w.__baseModelProgress.length - 1];
        if (!last || last.text !== sample.text || last.value !== sample.value) w.__baseModelProgress.push(sample);
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const base = await downloadOf(page, 'download-base-model');
    const reading = await page.evaluate(() => (window as unknown as { __baseModelProgress: { text: string; value: number; max: number }[] }).__baseModelProgress);
    const weightBytes = statSync(path.join(repoRoot, 'public/models/stories260K/model.safetensors')).size;
    const weightsRead = reading.filter((r) => r.text.startsWith('Reading model.safetensors:'));
    expect(weightsRead.length, JSON.stringify(reading)).toBeGreaterThan(0);
    // The bar counts the weights file's bytes, forward only. Its last state need not be on screen: events reach
    // the page once a frame, so "all read" may share a frame with the first "Writing" (the engine's own
    // sequence, ending at all bytes read, is checked in tests/engine/session.test.ts).
    for (const [i, r] of weightsRead.entries()) {
      expect(r.max, JSON.stringify(reading)).toBe(weightBytes);
      expect(r.text).toBe(`Reading model.safetensors: ${formatBytes(r.value)} of ${formatBytes(weightBytes)}`);
      if (i > 0) expect(r.value).toBeGreaterThanOrEqual(weightsRead[i - 1].value);
    }
    for (const r of reading) expect(r.value).toBeLessThanOrEqual(r.max);
    await expect(page.getByTestId('base-model-progress')).toHaveCount(0);
    await expect(page.getByTestId('download-base-model')).toHaveText('Download base model');
    expect(base.name).toBe('stories260K.zip');
    const baseFiles = unzipSync(base.bytes);
    expect(Object.keys(baseFiles).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `stories260K/${f}`));
    const baseConfig = JSON.parse(strFromU8(baseFiles['stories260K/config.json']));
    expect(baseConfig.quantization_config).toBeUndefined();
    expect(baseConfig.architectures).toEqual(['LlamaForCausalLM']);
    const adapter = unzipSync((await downloadOf(page, 'download-adapter')).bytes);
    const config = JSON.parse(strFromU8(adapter['adapter_config.json']));
    expect(config.base_model_name_or_path).toBe('stories260K');
    expect(config.prompt_tuning_init).toBe('RANDOM');
    const card = strFromU8(adapter['README.md']);
    expect(card).toContain('base = "stories260K"');
    expect(card).toContain('model = PeftModel.from_pretrained(model, adapter)');
    const metrics = JSON.parse(strFromU8(adapter['studio.json'])).metrics;
    expect(metrics.validation_step).toBeGreaterThanOrEqual(10);
    expect(metrics['zero-shot_step']).toBe(0);
    expect(metrics.majority_accuracy).toBe(0.6);

    await page.getByTestId('stop-training').click();
    await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'ended', { timeout: 300_000 });
    expect(errors).toEqual([]);
  });

  test('on a phone (390 px): the Train panel comes into view, its figures do not overlap, every nearest token shows', async ({ page }) => {
    test.setTimeout(600_000);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/?backend=wasm');
    await waitForModel(page);
    await page.getByTestId('sample-topics').click();
    await expect(page.getByTestId('ready-to-train')).toBeVisible();
    await page.getByTestId('train-now').click();
    await expect(page.locator('#step-train')).toBeInViewport();
    await expect.poll(async () => Number(await page.getByTestId('train-progress').getAttribute('data-step')), { timeout: 300_000 }).toBeGreaterThanOrEqual(3);
    expect(await overlapping(page.locator('.figures > div'))).toEqual([]);
    expect(await overlapping(page.locator('.headline > div'))).toEqual([]);
    // Each virtual token's five nearest tokens are all inside the grid's box, none scrolled out of view.
    const grid = page.getByTestId('projection-grid');
    await grid.scrollIntoViewIfNeeded();
    const box = (await page.locator('.projection-scroll').boundingBox())!;
    const chips = await grid.locator('tbody tr').first().locator('.chip').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
    expect(chips).toHaveLength(5);
    for (const right of chips) expect(right).toBeLessThanOrEqual(box.x + box.width + 0.5);
    await screenshot(page, 'first-run-3-phone');
    await page.getByTestId('stop-training').click();
    await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'ended', { timeout: 300_000 });
  });
});
