import { expect, test } from '@playwright/test';
import { publishedSample, screenshot, waitForModel } from './helpers';

const sample = publishedSample();

test.describe('the studio on the default model', () => {
  test('runs the engine worker on WebGPU and reproduces the published greedy sample', async ({ page }) => {
    test.skip(!sample, 'the published sample (../shared/models/stories260K/sample_greedy.txt) is not available');
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/?backend=webgpu&gpuKernels=1');
    await waitForModel(page);

    const facts = page.getByTestId('model-facts');
    await expect(facts.locator('[data-fact="backend"]')).toHaveText('webgpu');
    await expect(facts.locator('[data-fact="architecture"]')).toHaveText('LlamaForCausalLM');
    await expect(facts.locator('[data-fact="quantization"]')).toContainText('int8');
    await expect(facts.locator('[data-fact="adapter"]')).not.toHaveText('no WebGPU adapter');

    // The sample is the prompt's 4 tokens followed by exactly 56 greedy ones.
    await page.getByTestId('prompt-input').fill('Once upon a time');
    await page.getByTestId('max-new-tokens').fill('56');
    await page.getByTestId('generate-button').click();
    const output = page.getByTestId('generated-text');
    await expect(output).toHaveAttribute('data-done', 'true', { timeout: 240_000 });
    const text = (await output.textContent()) ?? '';
    await screenshot(page, 'foundation-generate-webgpu');
    expect(text).toBe(sample);
    expect(errors).toEqual([]);
  });

  test('chooses wasm on its own when WebGPU is only a software adapter, and says why', async ({ page }) => {
    await page.goto('/');
    await waitForModel(page);
    const facts = page.getByTestId('model-facts');
    const adapterIsFallback = (await facts.locator('[data-fact="adapter"]').textContent())?.includes('software fallback');
    if (adapterIsFallback) {
      await expect(facts.locator('[data-fact="backend"]')).toHaveText('wasm');
      await expect(facts.locator('[data-fact="backend-reason"]')).toContainText('software fallback adapter');
      // The first words are what the model can do; why this backend is under the details.
      await expect(page.getByTestId('model-runs')).toContainText('Runs on the CPU (WebAssembly)');
      await page.getByTestId('model-details').locator('summary').click();
      await expect(page.getByTestId('fallback-warning')).toBeVisible();
    } else {
      await expect(facts.locator('[data-fact="backend"]')).toHaveText(/webgpu|wasm/);
    }
    await screenshot(page, 'foundation-auto-backend');

    // Ctrl+Enter in the prompt continues it, as the button does: the sample's first words.
    await page.getByTestId('prompt-input').fill('Once upon a time');
    await page.getByTestId('max-new-tokens').fill('8');
    await page.getByTestId('prompt-input').press('Control+Enter');
    const output = page.getByTestId('generated-text');
    await expect(output).toHaveAttribute('data-done', 'true', { timeout: 120_000 });
    const text = (await output.textContent()) ?? '';
    expect(text.length).toBeGreaterThan('Once upon a time'.length);
    if (sample) expect(sample.startsWith(text)).toBe(true);
  });
});
