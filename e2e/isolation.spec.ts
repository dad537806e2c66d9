/**
 * Cross-origin isolation and WebAssembly threads, in Chromium, on the built studio. Served with
 * COOP/COEP (as `vite preview` serves it), it starts, is cross-origin isolated, runs the
 * threaded SIMD build on more than one thread (the model facts say how many) and trains.
 * Where the thread workers cannot load, it runs the single-threaded SIMD build, says why,
 * and trains: never a dead page.
 */
import { expect, test, type Page } from '@playwright/test';
import { e2eOutDir } from '../playwright.config';
import { CONTENT_SECURITY_POLICY, CROSS_ORIGIN_ISOLATION } from '../vite.config';
import { waitForModel } from './helpers';
import { currentStep, QUICK_RUN, setSettings, trainStatus, uploadSample } from './runHelpers';
import { serveFolder } from './staticServer';

const threadsFact = (page: Page) => page.getByTestId('model-facts').locator('[data-fact="threads"]');
/** The int8 kernels' SIMD module must instantiate against either build's memory (shared when threaded). */
const int8Dequantize = (page: Page) => page.getByTestId('model-facts').locator('[data-fact="int8-dequantize"]');

async function trainSteps(page: Page, steps: number): Promise<void> {
  await uploadSample(page);
  await setSettings(page, { ...QUICK_RUN, steps });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });
  expect(await currentStep(page)).toBe(steps);
}

test.describe('cross-origin isolation and wasm threads', () => {
  test('served with COOP/COEP, the studio runs wasm threaded on every core and trains', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const response = await page.goto('/?backend=wasm');
    expect(response!.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(response!.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    await waitForModel(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

    await expect(threadsFact(page)).toHaveAttribute('data-build', 'threaded-simd');
    const threads = Number(await threadsFact(page).getAttribute('data-threads'));
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    console.log(`  wasm threads: ${threads} of ${cores} logical cores (${await threadsFact(page).textContent()})`);
    expect(threads).toBeGreaterThan(1);
    expect(threads).toBe(Math.min(cores, 8));
    await expect(page.getByTestId('threads-fallback')).toHaveCount(0);
    await expect(int8Dequantize(page)).toHaveAttribute('data-kind', 'simd');

    await trainSteps(page, 5);
    expect(errors).toEqual([]);
  });

  test('where the thread workers cannot load, wasm falls back to one thread, says why, and trains', async ({ page }) => {
    // The same test build on a host that sends the headers but has lost the pthread worker script.
    const server = await serveFolder(e2eOutDir, {
      headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, ...CROSS_ORIGIN_ISOLATION },
      missing: /tfjs-backend-wasm-threaded-simd\.worker-[^/]*\.js$/,
    });
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}?backend=wasm`);
      await waitForModel(page);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(server.requests.some((p) => /threaded-simd\.worker-/.test(p))).toBe(true);

      await expect(threadsFact(page)).toHaveAttribute('data-build', 'simd');
      await expect(threadsFact(page)).toHaveAttribute('data-threads', '1');
      await expect(page.getByTestId('threads-fallback')).toContainText('the multi-threaded build did not start (a thread worker could not be loaded');
      await expect(page.getByTestId('model-error')).toHaveCount(0);
      await expect(int8Dequantize(page)).toHaveAttribute('data-kind', 'simd');

      await trainSteps(page, 3);
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
