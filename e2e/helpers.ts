import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';

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
