import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import { folderSource } from '../src/cli/nodeSource';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const sharedDir = process.env.STUDIO_SHARED_DIR ?? path.resolve(repoRoot, '..', 'shared');
export const stories260KDir = path.join(sharedDir, 'models', 'stories260K');
export const hasSharedModel = existsSync(path.join(stories260KDir, 'stories260K.bin'));
export const dataDir = path.join(sharedDir, 'data');

export function packageDir(id: 'stories260K' | 'stories260K-f32'): string {
  return path.join(repoRoot, 'public', 'models', id);
}

/** The published greedy continuation of "Once upon a time" (the line after "text: "). */
export function publishedSample(): string {
  const text = readFileSync(path.join(stories260KDir, 'sample_greedy.txt'), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('text: '));
  if (!line) throw new Error('sample_greedy.txt has no "text: " line');
  return line.slice('text: '.length);
}

export async function openDefault(id: 'stories260K' | 'stories260K-f32' = 'stories260K', backend: BackendName = 'cpu') {
  const choice = await selectBackend(backend);
  return ModelSession.open(folderSource(packageDir(id)), choice);
}

export { tf };
