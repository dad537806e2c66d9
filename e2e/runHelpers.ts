/**
 * Shared steps of the persistence, fault and security specs: a small labeled upload, small
 * settings, the engine worker (for its test hooks), and reading the run store in the page.
 */
import path from 'node:path';
import { expect, type Locator, type Page, type Worker } from '@playwright/test';
import { numberAttribute, repoRoot, sampleLabeledCsv, sharedDir } from './helpers';

export const smsSpam = path.join(sharedDir, 'data', 'sms_spam.csv');

/** A run that is quick on wasm with the tiny default model. */
export const QUICK_RUN = {
  numVirtualTokens: 4,
  batchSize: 4,
  maxLength: 32,
  evalEvery: 5,
  projectEvery: 5,
  maxEvalExamples: 12,
  checkpointEvery: 5,
};

export async function setSetting(page: Page, key: string, value: number | string): Promise<void> {
  const input = page.getByTestId(`setting-${key}`);
  await input.fill(String(value));
  await input.blur();
  await expect(input).toHaveValue(String(value));
}

export async function setSettings(page: Page, settings: Record<string, number | string>): Promise<void> {
  const more = page.locator('details.more-settings');
  if (!(await more.evaluate((d) => (d as HTMLDetailsElement).open))) await more.locator('summary').click();
  for (const [key, value] of Object.entries(settings)) await setSetting(page, key, value);
  await expect(page.getByTestId('settings-error')).toBeEmpty();
}

/** A balanced sample of the SMS spam set (`perLabel` rows per label), uploaded; resolves when the dataset is built. */
export async function uploadSample(page: Page, perLabel = 20): Promise<void> {
  await page.getByTestId('csv-input').setInputFiles(sampleLabeledCsv(smsSpam, perLabel));
  await expect(page.getByTestId('dataset-summary')).toBeVisible();
}

export const currentStep = (page: Page) => numberAttribute(page, 'train-progress', 'data-step');
export const chartPoints = (page: Page, testId = 'loss-chart') => numberAttribute(page, testId, 'data-points');
export const trainStatus = (page: Page) => page.getByTestId('train-status');

/** The engine's module worker (the page may run others). */
export async function studioWorker(page: Page): Promise<Worker> {
  await expect.poll(() => page.workers().some((w) => w.url().includes('studio.worker')), { timeout: 60_000 }).toBe(true);
  return page.workers().find((w) => w.url().includes('studio.worker'))!;
}

/** The runs in the page's IndexedDB, as the run store keeps them (read in the page, without the app). */
export async function storedRuns(page: Page): Promise<{ id: string; name: string; status: string; step: number; bestAccuracy: number | null; checkpointStep: number | null; events: number }[]> {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('prompt-tuning-studio');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(['runs', 'events'], 'readonly');
      const runs = tx.objectStore('runs').getAll();
      const events = tx.objectStore('events').getAll();
      tx.oncomplete = () => {
        const counts = new Map<string, number>();
        for (const e of events.result as { runId: string }[]) counts.set(e.runId, (counts.get(e.runId) ?? 0) + 1);
        resolve((runs.result as { id: string; name: string; status: string; summary: { step: number; bestAccuracy: number | null }; checkpointStep?: number | null }[])
          .map((r) => ({
            id: r.id, name: r.name, status: r.status, step: r.summary.step, bestAccuracy: r.summary.bestAccuracy,
            checkpointStep: r.checkpointStep ?? null, events: counts.get(r.id) ?? 0,
          })));
        db.close();
      };
      tx.onerror = () => reject(tx.error);
    };
  }));
}

/** A screenshot of one part of the page, to e2e/screenshots/<name>.png. */
export async function screenshotOf(locator: Locator, name: string): Promise<void> {
  await locator.scrollIntoViewIfNeeded();
  await locator.screenshot({ path: path.join(repoRoot, 'e2e', 'screenshots', `${name}.png`) });
}
