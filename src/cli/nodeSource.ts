/** A model package in a folder on disk, for the CLI and Node tests. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { StudioError } from '../errors';
import { formatBytes } from '../formats/bytes';
import type { ModelSource } from '../model/package';
import { fileError, kindOf } from './files';

/** The most one readFileSync returns (Node's Buffer limit). */
const MAX_FILE_BYTES = 2 ** 31 - 1;

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
      let stats;
      try {
        stats = statSync(full);
      } catch (e) {
        throw fileError(e, full, 'read');
      }
      if (!stats.isFile()) throw new StudioError('model', `${full} is ${kindOf(stats)}, not a file.`);
      // Node reads one file of at most 2 GiB into memory; say so, naming the file, rather than fail with its raw error.
      if (stats.size > MAX_FILE_BYTES) {
        throw new StudioError('model', `${full} is ${formatBytes(stats.size)}; the studio reads files of up to 2 GiB.`,
          'Save the weights as shards of at most 2 GiB (transformers\' save_pretrained(max_shard_size="2GB") writes model.safetensors.index.json and the shards).');
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(full));
      } catch (e) {
        throw fileError(e, full, 'read');
      }
      onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    },
  };
}

/** The repository's generated packages (public/models/<id>), made by `npm run setup`. */
export function repoModelDir(id = 'stories260K'): string {
  return path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '..', 'public', 'models', id);
}
