import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { isStudioError, type StudioErrorCode } from '../../src/errors';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDataDir = path.resolve(repoRoot, '../shared/data');
export const hasSharedData = existsSync(path.join(sharedDataDir, 'sms_spam.csv'));

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Runs fn and returns the StudioError it throws, failing the test if it throws anything else or nothing. */
export function studioErrorOf(fn: () => unknown, code?: StudioErrorCode): Error & { code: StudioErrorCode; hint?: string } {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a StudioError to be thrown').toBeDefined();
  if (!isStudioError(thrown)) throw thrown;
  if (code) expect(thrown.code).toBe(code);
  return thrown;
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[key(it)] = (out[key(it)] ?? 0) + 1;
  return out;
}
