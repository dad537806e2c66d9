/**
 * Faults, in Chromium: a training step that throws, a lost GPU device, a reload in the
 * middle of a run, and a full disk (IndexedDB writes refused). Each says so in place and the
 * run goes on, or can be resumed, without losing what was shown or stored before.
 */
import { expect, test, type Page } from '@playwright/test';
import { waitForModel } from './helpers';
import { chartPoints, currentStep, QUICK_RUN, screenshotOf, setSettings, storedRuns, studioWorker, trainStatus, uploadSample } from './runHelpers';

type TestHooks = { __studioTest: { loseDevice(): void; failNextStep(): void } };

/** The stored step losses of a run, by step (read straight from IndexedDB). */
function storedLosses(page: Page, runId: string): Promise<Record<number, number>> {
  return page.evaluate((id) => new Promise<Record<number, number>>((resolve, reject) => {
    const open = indexedDB.open('prompt-tuning-studio');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const request = db.transaction('events').objectStore('events').index('runId').getAll(id);
      request.onsuccess = () => {
        const out: Record<number, number> = {};
        for (const e of request.result as { kind: string; data: { step: number; loss: number } }[]) {
          if (e.kind === 'step') out[e.data.step] = e.data.loss;
        }
        db.close();
        resolve(out);
      };
      request.onerror = () => reject(request.error);
    };
  }), runId);
}

test.describe('faults', () => {
  test('a step that throws: the message in place, then "Resume from step N" continues the same run', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/?backend=wasm');
    await waitForModel(page);
    await uploadSample(page);
    await setSettings(page, { ...QUICK_RUN, steps: 30 });
    await page.getByTestId('start-training').click();
    await expect.poll(() => currentStep(page)).toBeGreaterThanOrEqual(7);

    // Paused, the next step is known: make it throw, then let it run.
    await page.getByTestId('pause-training').click();
    await expect(trainStatus(page)).toHaveAttribute('data-phase', 'paused');
    const worker = await studioWorker(page);
    await worker.evaluate(() => (self as unknown as TestHooks).__studioTest.failNextStep());
    await page.getByTestId('resume-training').click();

    await expect(trainStatus(page)).toHaveAttribute('data-status', 'failed');
    await expect(page.getByTestId('train-error')).toContainText('simulated failure after step');
    const failedAt = await currentStep(page);
    // The newest checkpoint: the pause took one at the step before the failure; the failure
    // comes after its step, so where that step is a checkpoint step (every 5) it has its own.
    const checkpoint = failedAt % 5 === 0 ? failedAt : failedAt - 1;
    const resume = page.getByTestId('resume-from-checkpoint');
    await expect(resume).toHaveText(`Resume from step ${checkpoint}`);
    expect(await chartPoints(page)).toBe(failedAt);
    await screenshotOf(page.locator('#step-train'), 'faults-1-step-error');
    console.log(`  failed at step ${failedAt}; resuming from ${checkpoint}`);

    await resume.click();
    await expect(page.getByTestId('train-error')).toHaveCount(0);
    await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });
    expect(await currentStep(page)).toBe(30);
    // One continuous curve: steps 1..30, each once.
    const chart = page.getByTestId('loss-chart');
    await expect(chart).toHaveAttribute('data-points', '30');
    await expect(chart).toHaveAttribute('data-last-step', '30');

    // The run history holds it as one run, completed, its history without the repeated steps.
    const row = page.getByTestId('history-row');
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId('run-status')).toHaveText('completed');
    await expect(row.getByTestId('run-steps')).toHaveText('30 / 30');
    await row.getByTestId('open-run').click();
    await expect(page.getByTestId('run-detail')).toHaveAttribute('data-points', '30');
    const runs = await storedRuns(page);
    expect(runs).toHaveLength(1);
    expect(Object.keys(await storedLosses(page, runs[0].id))).toHaveLength(30);
    expect(errors).toEqual([]);
  });

  test('a lost GPU device: the run goes on (on a fresh device or on wasm) and the page says so', async ({ page }) => {
    test.setTimeout(540_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/?backend=webgpu');
    await waitForModel(page);
    await expect(page.getByTestId('model-facts').locator('[data-fact="backend"]')).toHaveText('webgpu');
    await uploadSample(page, 10);
    await setSettings(page, { ...QUICK_RUN, steps: 14, checkpointEvery: 4, evalEvery: 7, projectEvery: 7, maxEvalExamples: 8 });
    await page.getByTestId('start-training').click();
    await expect.poll(() => currentStep(page), { timeout: 300_000 }).toBeGreaterThanOrEqual(6);

    const worker = await studioWorker(page);
    await worker.evaluate(() => (self as unknown as TestHooks).__studioTest.loseDevice());
    const notices = page.getByTestId('run-notices');
    await expect(notices).toContainText('The GPU device was lost', { timeout: 120_000 });
    await expect(notices).toContainText(/Training continues on (webgpu|wasm) from step \d+, the last checkpoint\./);
    console.log(`  ${(await notices.textContent())?.trim()}`);

    await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 400_000 });
    expect(await currentStep(page)).toBe(14);
    await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', '14');
    await expect(page.getByTestId('train-error')).toHaveCount(0);
    await expect(page.getByTestId('history-row').getByTestId('run-status')).toHaveText('completed');
    expect(errors).toEqual([]);
  });

  test('a reload mid-run: the page offers to resume it; the chart keeps its points and the run continues', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/?backend=wasm');
    await waitForModel(page);
    await uploadSample(page);
    await setSettings(page, { ...QUICK_RUN, steps: 400, evalEvery: 10, projectEvery: 10, checkpointEvery: 50 });
    await page.getByTestId('start-training').click();

    // Stored: a checkpoint of step 50 or later, and steps beyond it (which the resumed run does again).
    const saved = page.getByTestId('run-saved');
    await expect.poll(async () => {
      const checkpointStep = Number(await saved.getAttribute('data-checkpoint-step') ?? 0);
      const step = Number(await saved.getAttribute('data-step') ?? 0);
      return checkpointStep >= 50 && step > checkpointStep;
    }, { timeout: 120_000 }).toBe(true);
    const chart = page.getByTestId('loss-chart');
    const firstLoss = await chart.getAttribute('data-first-loss');
    const shownBefore = await chartPoints(page);
    const [before] = await storedRuns(page);
    const lossesBefore = await storedLosses(page, before.id);
    console.log(`  reloading at step ${await currentStep(page)} (chart ${shownBefore} points; stored: checkpoint ${before.checkpointStep}, ${Object.keys(lossesBefore).length} steps)`);

    await page.reload();
    await waitForModel(page);
    const [stored] = await storedRuns(page);
    expect(stored.id).toBe(before.id);
    expect(stored.status).toBe('running');
    const checkpoint = stored.checkpointStep!;
    expect(checkpoint).toBeGreaterThanOrEqual(before.checkpointStep!);
    const offer = page.getByTestId('resume-offer');
    await expect(offer).toBeVisible();
    await expect(offer.getByTestId('resume-run')).toHaveText(`Resume run ${stored.name} from step ${checkpoint}`);
    await expect(chart).toHaveAttribute('data-points', '0');
    await expect(page.getByTestId('history-row').getByTestId('run-status')).toHaveText('interrupted');
    await screenshotOf(page.locator('.app-header, .resume-offers').last(), 'faults-2-resume-offer');

    await offer.getByTestId('resume-run').click();
    await expect(offer).toHaveCount(0);
    // The CSV, mapping and split came back from IndexedDB; the chart from the stored history.
    await expect(page.getByTestId('table-facts')).toContainText('sms_spam-sample.csv');
    await expect(chart).toHaveAttribute('data-first-loss', firstLoss!);
    await expect.poll(() => chartPoints(page)).toBeGreaterThanOrEqual(checkpoint);
    await expect.poll(() => currentStep(page), { timeout: 120_000 }).toBeGreaterThan(shownBefore + 5);
    await page.getByTestId('stop-training').click();
    await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 60_000 });

    // One continuous curve from step 1, the earlier points included.
    const last = await currentStep(page);
    await expect(chart).toHaveAttribute('data-points', String(last));
    await expect(chart).toHaveAttribute('data-last-step', String(last));
    await expect(chart).toHaveAttribute('data-first-loss', firstLoss!);
    // The steps redone after the checkpoint came out as they had before the reload (exact resume).
    const [after] = await storedRuns(page);
    expect(after.status).toBe('stopped');
    const lossesAfter = await storedLosses(page, after.id);
    expect(Object.keys(lossesAfter)).toHaveLength(last);
    const redone = Object.keys(lossesBefore).map(Number).filter((step) => step > checkpoint);
    console.log(`  resumed from ${checkpoint}, stopped at ${last}; ${redone.length} stored steps after the checkpoint were done again`);
    for (const [step, loss] of Object.entries(lossesBefore)) expect(lossesAfter[Number(step)]).toBeCloseTo(loss, 5);
    expect(errors).toEqual([]);
  });

  test('a full disk: writes refused for quota say so in place; earlier runs stay intact', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Once window.__storageFull is set, every IndexedDB write is refused as over quota.
    await page.addInitScript(() => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
        if ((window as unknown as { __storageFull?: boolean }).__storageFull) {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        }
        return put.apply(this, args);
      };
    });
    await page.goto('/?backend=wasm');
    await waitForModel(page);
    await uploadSample(page);
    await setSettings(page, { ...QUICK_RUN, steps: 10 });

    // A first run, stored whole.
    await page.getByTestId('start-training').click();
    await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });
    const row = page.getByTestId('history-row');
    await expect(row.getByTestId('run-status')).toHaveText('completed');
    await expect(row.getByTestId('run-steps')).toHaveText('10 / 10');
    const [first] = await storedRuns(page);
    expect(first.checkpointStep).toBe(10);
    const firstBest = await row.getByTestId('run-best').textContent();

    // The disk is full: the second run trains, and says it cannot be saved.
    await page.evaluate(() => ((window as unknown as { __storageFull: boolean }).__storageFull = true));
    await setSettings(page, { steps: 12 });
    await page.getByTestId('start-training').click();
    const storageError = page.getByTestId('storage-error');
    await expect(storageError).toContainText("The browser's storage for this site is full");
    await expect(storageError).toContainText('Earlier runs are unchanged.');
    await screenshotOf(page.locator('#step-train'), 'faults-3-storage-full');
    await expect(trainStatus(page)).toHaveAttribute('data-status', 'ended', { timeout: 120_000 });
    expect(await currentStep(page)).toBe(12);
    await expect(page.getByTestId('train-error')).toHaveCount(0);

    // After a reload (writes allowed again), the first run is as it was; the second was never stored.
    await page.reload();
    await waitForModel(page);
    const runs = await storedRuns(page);
    expect(runs).toEqual([first]);
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId('run-status')).toHaveText('completed');
    await expect(row.getByTestId('run-best')).toHaveText(firstBest!);
    await row.getByTestId('open-run').click();
    await expect(page.getByTestId('run-detail')).toHaveAttribute('data-points', '10');
    await expect(page.getByTestId('resume-offer')).toHaveCount(0);
    expect(errors).toEqual([]);
  });
});
