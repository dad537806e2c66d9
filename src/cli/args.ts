/** Flag parsing and small checks shared by the CLI's commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { selectBackend, type BackendName } from '../engine/backend';
import { StudioError, type SerializedError } from '../errors';

/** Where a command writes: stdout gets results (JSON, CSV), stderr progress and warnings. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Told of the error a command ends with, as data (tests check its code, message and hint). */
  onError?(error: SerializedError): void;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export const common = {
  backend: { type: 'string' },
  model: { type: 'string' },
  json: { type: 'boolean', default: false },
  float: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

export function parse<O extends ParseArgsConfig['options']>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...common, ...options }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const first = (e as Error).message.split('\n')[0].trim();
    throw new StudioError('cli', /[.!?]$/.test(first) ? first : `${first}.`, 'Run with --help for usage.');
  }
}

export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n <= 0) throw new StudioError('cli', `${flag} must be a positive integer, got "${value}".`);
  return n;
}

export function nonNegativeInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new StudioError('cli', `${flag} must be a whole number ≥ 0, got "${value}".`);
  return n;
}

export function finiteNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new StudioError('cli', `${flag} must be a number, got "${value}".`);
  return n;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new StudioError('cli', `${flag} must be ${allowed.join(', ')}, got "${value}".`);
  return value as T;
}

/**
 * The Node backends: cpu (plain JS, the reference the engine's tests use) or wasm (SIMD,
 * over 10× faster at training; the objective avoids gather's gradient, which wasm lacks, so
 * every method trains there). Each command says which it defaults to.
 */
export function nodeBackendName(values: { backend?: string }, fallback: 'cpu' | 'wasm' = 'cpu'): BackendName {
  const name = values.backend ?? fallback;
  if (!['cpu', 'wasm'].includes(name)) throw new StudioError('cli', `--backend must be cpu or wasm in Node, got "${name}".`);
  return name as BackendName;
}

export async function nodeBackend(values: { backend?: string }, fallback: 'cpu' | 'wasm' = 'cpu') {
  return selectBackend(nodeBackendName(values, fallback));
}

/** Values of a flag given several times or as a comma-separated list. */
export function listFlag(values: string[] | string | undefined): string[] {
  if (values === undefined) return [];
  return (Array.isArray(values) ? values : [values]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}
