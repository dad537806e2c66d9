import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import Papa from 'papaparse';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const sharedDir = process.env.STUDIO_SHARED_DIR ?? path.resolve(repoRoot, '..', 'shared');

/** The published greedy continuation of "Once upon a time" (the line after "text: "). */
export function publishedSample(): string | null {
  const file = path.join(sharedDir, 'models', 'stories260K', 'sample_greedy.txt');
  if (!existsSync(file)) return null;
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('text: '));
  return line ? line.slice('text: '.length) : null;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = path.join(repoRoot, 'e2e', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

export async function waitForModel(page: Page): Promise<void> {
  await page.getByTestId('model-status').and(page.locator('[data-status="ready"]')).waitFor({ timeout: 180_000 });
}

/**
 * A small labeled sample of a shared CSV, written to a temporary file for upload: `perLabel`
 * rows of each label, picked with a fixed seed so every run trains on the same rows.
 */
export function sampleLabeledCsv(source: string, perLabel: number, seed = 7): string {
  const parsed = Papa.parse<Record<string, string>>(readFileSync(source, 'utf8'), { header: true, skipEmptyLines: true });
  const byLabel = new Map<string, Record<string, string>[]>();
  for (const row of parsed.data) {
    if (!row.text || !row.label) continue;
    byLabel.set(row.label, [...(byLabel.get(row.label) ?? []), row]);
  }
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rows = [...byLabel.values()].flatMap((list) => {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, perLabel);
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'studio-e2e-'));
  const file = path.join(dir, `${path.basename(source, '.csv')}-sample.csv`);
  writeFileSync(file, Papa.unparse(rows.map((r) => ({ text: r.text, label: r.label }))));
  return file;
}

/** Registered before the page loads: every main-thread long task, for the test to read. */
export function recordLongTasks(): void {
  const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
  w.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}

export async function longTasksBetween(page: Page, from: number, to: number): Promise<{ start: number; duration: number }[]> {
  const all = await page.evaluate(() => (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks);
  return all.filter((t) => t.start >= from && t.start <= to);
}

/** The elements' numeric data-* attribute. */
export async function numberAttribute(page: Page, testId: string, name: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute(name));
}
