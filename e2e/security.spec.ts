/**
 * Security, in Chromium, on the built app: it runs and trains under its Content-Security-
 * Policy (no inline script, no eval) without a single violation, in the page or in the engine
 * worker; text from a CSV (cells, labels, the file's name) is shown as text, never as HTML;
 * and a whole session (upload, train, export) sends no request beyond the app's own origin.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import Papa from 'papaparse';
import { waitForModel } from './helpers';
import { currentStep, QUICK_RUN, setSettings, trainStatus, uploadSample } from './runHelpers';

const CSP_TEXT = /Content Security Policy|Content-Security-Policy|Refused to/i;

async function trainQuickly(page: Page, steps: number): Promise<void> {
  await setSettings(page, { ...QUICK_RUN, steps });
  await page.getByTestId('start-training').click();
  await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });
  expect(await currentStep(page)).toBe(steps);
}

test.describe('security', () => {
  test('the built app carries its CSP (header and meta) and trains under it without a violation', async ({ page }) => {
    const violations: string[] = [];
    page.on('console', (m) => { if (CSP_TEXT.test(m.text())) violations.push(`page: ${m.text()}`); });
    page.on('worker', (w) => w.on('console', (m) => { if (CSP_TEXT.test(m.text())) violations.push(`worker: ${m.text()}`); }));
    await page.addInitScript(() => {
      const w = window as unknown as { __violations: string[] };
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
    });

    const response = await page.goto('/?backend=wasm');
    const header = response!.headers()['content-security-policy'];
    const directives = Object.fromEntries(header.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(directives['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['base-uri']).toEqual(["'none'"]);
    expect(directives['connect-src']).toEqual(["'self'", 'https:']);
    expect(header).not.toContain('unsafe-inline');
    expect(header).not.toMatch(/'unsafe-eval'/);
    // The same policy in the page itself, for static hosting without headers.
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')).toBe(header);
    expect(await page.locator('script:not([src])').count()).toBe(0);

    await waitForModel(page);
    await expect(page.getByTestId('model-facts').locator('[data-fact="backend"]')).toHaveText('wasm');
    await uploadSample(page);
    await trainQuickly(page, 10);
    await expect(page.getByTestId('projection-grid')).toBeVisible();
    await expect(page.getByTestId('history-row')).toHaveCount(1);
    expect(violations).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);

    // Enforced, not only declared: eval and an inline event handler are refused, and reported. (The eval
    // runs in a timer: code that Playwright evaluates directly is exempt from the policy's eval rule.)
    await page.evaluate(() => setTimeout(() => {
      const w = window as unknown as { __evalResult: string };
      try {
        w.__evalResult = String(eval('1 + 1'));
      } catch (e) {
        w.__evalResult = (e as Error).name;
      }
    }, 0));
    await expect.poll(() => page.evaluate(() => (window as unknown as { __evalResult?: string }).__evalResult)).toBe('EvalError');
    await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<img alt="" src="data:," onload="window.__inlineRan = true">'));
    await expect.poll(() => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.join(' '))).toContain('script-src-attr');
    expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
  });

  test('text from a CSV is shown as text, never interpreted as HTML', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(() => ((window as unknown as { __xss: number }).__xss = 0));
    await page.goto('/?backend=wasm');
    await waitForModel(page);

    const img = '<img src=x onerror="window.__xss=1">';
    const script = '<script>window.__xss=2</script>';
    const rows = Array.from({ length: 24 }, (_, i) => ({
      text: i % 3 === 0 ? img : i % 3 === 1 ? `${script} message ${i}` : `plain message ${i}`,
      label: i % 2 ? '<b>spam</b>' : 'ham',
    }));
    const fileName = '<img src=x onerror=alert(1)>.csv';
    await page.getByTestId('csv-input').setInputFiles({ name: fileName, mimeType: 'text/csv', buffer: Buffer.from(Papa.unparse(rows)) });
    await expect(page.getByTestId('dataset-summary')).toBeVisible();

    const preview = page.getByTestId('table-preview');
    await expect(preview.locator('tbody tr').first().locator('td').first()).toHaveText(img);
    await expect(preview.locator('tbody tr').nth(1).locator('td').first()).toHaveText(`${script} message 1`);
    await expect(preview.locator('img, script, b')).toHaveCount(0);
    await expect(page.getByTestId('label-bars')).toContainText('<b>spam</b>');
    await expect(page.getByTestId('label-bars').locator('b')).toHaveCount(0);
    await expect(page.getByTestId('table-facts')).toContainText(fileName);

    // Trained, the labels and the file's name appear in the results and the run history, still as text.
    await trainQuickly(page, 5);
    await expect(page.getByTestId('history-row').getByTestId('run-name')).toContainText('<img src=x onerror=alert(1)>');
    await page.getByTestId('playground-input').fill(img);
    await page.getByTestId('playground-predict').click();
    await expect(page.getByTestId('playground-result')).toContainText('<b>spam</b>', { timeout: 60_000 });

    await expect(page.locator('#root img, #root script, #root b')).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __xss: number }).__xss)).toBe(0);
    expect(errors).toEqual([]);
  });

  test('a whole session (upload, train, export) sends no request beyond the app\'s own origin', async ({ page, context, baseURL }) => {
    const requests = new Set<string>();
    // The context sees the page's requests and its workers' (the engine fetches the model and its wasm).
    context.on('request', (r) => requests.add(r.url()));
    page.on('request', (r) => requests.add(r.url()));
    page.on('websocket', (ws) => requests.add(ws.url()));
    page.on('worker', (w) => requests.add(w.url()));

    await page.goto('/?backend=wasm');
    await waitForModel(page);
    await uploadSample(page);
    await trainQuickly(page, 10);

    // Every export: the adapter zip, the predictions, the run's JSON and its checkpoint.
    const downloads: string[] = [];
    for (const testId of ['download-adapter', 'download-predictions', 'export-run', 'export-checkpoint']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).first().click()]);
      downloads.push(download.suggestedFilename());
      expect(readFileSync(await download.path()).length).toBeGreaterThan(0);
    }
    console.log(`  downloads: ${downloads.join(', ')}`);

    const origin = new URL(baseURL!).origin;
    const all = [...requests];
    const foreign = all.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    console.log(`  ${all.length} distinct requests, all to ${origin}`);
    expect(foreign).toEqual([]);
    // The record covers the worker: the model's files and the wasm binary were fetched there.
    expect(all.some((u) => u.includes('/models/stories260K/model.safetensors'))).toBe(true);
    expect(all.some((u) => u.endsWith('.wasm'))).toBe(true);
  });
});
