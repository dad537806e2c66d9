/** The reference checkpoints of scripts/make-reference-checkpoints.py, and in-memory model sources. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../src/errors';
import type { ModelSource } from '../../src/model/package';
import { repoRoot } from '../helpers';

export const CHECKPOINTS = ['llama', 'llama3-untied', 'qwen2', 'gpt2'] as const;
export type CheckpointName = (typeof CHECKPOINTS)[number];

export interface ReferenceCase {
  ids: number[];
  /** Per layer [Hkv, P, hd] keys and values placed before the tokens (prefix tuning / a cache). */
  prefix?: { k: number[][][]; v: number[][][] }[];
  /** [T, V] logits from the numpy implementation. */
  logits: number[][];
  /** The same with every weight matrix int8, one scale per output channel (first cases only). */
  int8_logits?: number[][];
}

export function checkpointDir(name: CheckpointName): string {
  return path.join(repoRoot, 'tests', 'fixtures', 'checkpoints', name);
}

export function reference(name: CheckpointName): { dtype: string; cases: ReferenceCase[] } {
  return JSON.parse(readFileSync(path.join(checkpointDir(name), 'reference.json'), 'utf8'));
}

/** A checkpoint's files (without reference.json), to alter before loading. */
export function checkpointFiles(name: CheckpointName): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const f of readdirSync(checkpointDir(name))) {
    if (f !== 'reference.json') files.set(f, new Uint8Array(readFileSync(path.join(checkpointDir(name), f))));
  }
  return files;
}

export function memorySource(files: Map<string, Uint8Array>, description = 'the test files'): ModelSource {
  return {
    description,
    async has(file) {
      return files.has(file);
    },
    async read(file, onProgress) {
      const bytes = files.get(file);
      if (!bytes) throw new StudioError('model', `${file} is not among ${description}.`);
      onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    },
  };
}

export function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
  return m;
}
