/**
 * Errors as the UI shows them: the worker's plain message and the way out (its hint),
 * kept apart so a panel can print the hint on its own line.
 */
import { isStudioError } from '../errors';
import { WorkerRequestError } from '../worker/client';
import type { SerializedError } from '../engine/api';

export interface UiError {
  code: string;
  message: string;
  hint?: string;
}

export function toUiError(e: unknown): UiError {
  if (e instanceof WorkerRequestError) return { ...e.detail };
  // Raised on the page itself (the run store): the same plain message and way out.
  if (isStudioError(e)) return { code: e.code, message: e.message, hint: e.hint };
  if (e instanceof Error) return { code: 'page', message: e.message };
  return { code: 'page', message: String(e) };
}

export function fromSerialized(e: SerializedError): UiError {
  return { ...e };
}
