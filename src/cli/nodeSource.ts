/** A model package in a folder on disk, for the CLI and Node tests. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { StudioError } from '../errors';
import type { ModelSource } from '../model/package';

export function folderSource(dir: string): ModelSource {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new StudioError('model', `The model folder ${dir} does not exist.`,
      'Pass --model with a folder holding config.json, tokenizer.json and model.safetensors, or run `npm run setup` for the default model.');
  }
  return {
    description: root,
    async has(file) {
      return existsSync(path.join(root, file));
    },
    async read(file, onProgress) {
      const full = path.join(root, file);
      if (!existsSync(full)) throw new StudioError('model', `${file} is missing from ${root}.`);
      const bytes = new Uint8Array(readFileSync(full));
      onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    },
  };
}

/** The repository's generated packages (public/models/<id>), made by `npm run setup`. */
export function repoModelDir(id = 'stories260K'): string {
  return path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '..', 'public', 'models', id);
}
