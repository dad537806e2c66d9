/**
 * The product build, as a user's static host would serve it: built for a sub-path
 * (`vite build --base=/studio/`) and served by a plain file server that sends no special
 * headers. The studio's service worker makes the page cross-origin isolated (one reload on the
 * first visit) and caches the app; with the server stopped, a second visit opens the studio
 * and trains. And the product holds only the product: no bench or kernel pages, no test hooks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { repoRoot, waitForModel } from './helpers';
import { currentStep, QUICK_RUN, setSettings, trainStatus, uploadSample } from './runHelpers';
import { serveFolder } from './staticServer';

// The worker under test: playwright.config.ts blocks service workers for the other specs.
test.use({ serviceWorkers: 'allow' });

let dist = '';

test.beforeAll(async () => {
  test.setTimeout(300_000);
  dist = mkdtempSync(path.join(tmpdir(), 'studio-product-'));
  const build = spawnSync('npx', ['vite', 'build', '--base=/studio/', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'], { cwd: repoRoot, encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);
});

test.afterAll(() => {
  if (dist) rmSync(dist, { recursive: true, force: true });
});

const threadsFact = (page: Page) => page.getByTestId('model-facts').locator('[data-fact="threads"]');

test.describe('the product build, offline from a sub-path', () => {
  test('ships only the product, with a manifest and the service worker\'s file list', () => {
    expect(readdirSync(dist).sort()).not.toContain('bench');
    expect(readdirSync(dist).sort()).not.toContain('e2e');
    const scripts = readdirSync(path.join(dist, 'assets')).filter((f) => f.endsWith('.js'));
    for (const file of scripts) expect(readFileSync(path.join(dist, 'assets', file), 'utf8'), file).not.toContain('__studioTest');

    const manifest = JSON.parse(readFileSync(path.join(dist, 'manifest.webmanifest'), 'utf8')) as { start_url: string; scope: string; icons: { src: string; sizes: string }[] };
    expect([manifest.start_url, manifest.scope]).toEqual(['./', './']);
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of manifest.icons) expect(existsSync(path.join(dist, icon.src)), icon.src).toBe(true);

    const build = JSON.parse(/^const BUILD = (.*);$/m.exec(readFileSync(path.join(dist, 'sw.js'), 'utf8'))![1]) as { version: string; files: string[] };
    expect(build.version).toMatch(/^[0-9a-f]{16}$/);
    expect(build.files).toEqual(expect.arrayContaining(['index.html', 'manifest.webmanifest', 'models/stories260K/model.safetensors', 'models/stories260K/tokenizer.json']));
    expect(build.files.filter((f) => f.endsWith('.wasm'))).toHaveLength(3);
    // The pthread worker and the script it imports: the threads need them offline too.
    expect(build.files.filter((f) => /tfjs-backend-wasm-threaded-simd(\.worker)?-[^/]*\.js$/.test(f))).toHaveLength(2);
    expect(build.files.some((f) => f.startsWith('models/stories260K-f32/'))).toBe(false);
    for (const file of build.files) expect(existsSync(path.join(dist, file)), file).toBe(true);
  });

  test('a plain static host: the service worker isolates the page; with the server stopped, a second visit trains', async ({ context }) => {
    const server = await serveFolder(dist, { prefix: '/studio/' });
    let page = await context.newPage();
    const first = await page.goto(server.url);
    // The host sends no isolation headers: the service worker adds them, after one reload.
    expect(first!.headers()['cross-origin-embedder-policy']).toBeUndefined();
    await waitForModel(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}sw.js`);
    expect(await page.locator('link[rel="manifest"]').getAttribute('href')).toBe('/studio/manifest.webmanifest');
    await expect(threadsFact(page)).toHaveAttribute('data-build', 'threaded-simd');
    expect(Number(await threadsFact(page).getAttribute('data-threads'))).toBeGreaterThan(1);
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const cache = await caches.open(names.find((n) => n.startsWith('studio-app-'))!);
      return (await cache.keys()).map((r) => new URL(r.url).pathname);
    });
    expect(cached).toEqual(expect.arrayContaining(['/studio/index.html', '/studio/models/stories260K/model.safetensors']));
    await page.close();

    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();

    page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await waitForModel(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(Number(await threadsFact(page).getAttribute('data-threads'))).toBeGreaterThan(1);
    await uploadSample(page);
    await setSettings(page, { ...QUICK_RUN, steps: 5 });
    await page.getByTestId('start-training').click();
    await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });
    expect(await currentStep(page)).toBe(5);
    expect(errors).toEqual([]);
  });
});
