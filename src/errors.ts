/**
 * Every failure a user can cause (a bad file, a bad setting, a model that does not fit)
 * is raised as a StudioError: `code` is stable for tests and the UI, `message` is the
 * plain sentence the user reads, and `hint` says what to do about it.
 * Anything else that escapes the engine is a bug.
 */
export type StudioErrorCode =
  | 'csv'
  | 'data'
  | 'safetensors'
  | 'model'
  | 'tokenizer'
  | 'config'
  | 'settings'
  | 'adapter'
  | 'checkpoint'
  | 'network'
  | 'training'
  | 'storage'
  | 'library'
  | 'setup'
  | 'cli';

export class StudioError extends Error {
  override readonly name = 'StudioError';
  constructor(
    readonly code: StudioErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function isStudioError(e: unknown): e is StudioError {
  return e instanceof Error && e.name === 'StudioError' && 'code' in e;
}

/** An error as plain data, to cross a worker boundary or be printed by the CLI. */
export interface SerializedError {
  code: string;
  message: string;
  hint?: string;
}

/** Our errors keep their code and hint; anything else is a bug and says so. */
export function serializeError(e: unknown): SerializedError {
  if (isStudioError(e)) return { code: e.code, message: e.message, hint: e.hint };
  return { code: 'internal', message: `Internal error: ${(e as Error)?.message ?? String(e)}` };
}

/** The text shown to a user for any thrown value: our own message, or a plain fallback. */
export function describeError(e: unknown): string {
  if (isStudioError(e)) return e.hint ? `${e.message} ${e.hint}` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
