/** A model package in a folder on disk, for the CLI and Node tests. */
import { existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { StudioError } from '../errors';
import { formatBytes } from '../formats/bytes';
import type { ModelSource } from '../model/package';
import { fileError, kindOf } from './files';

/** The most one readFileSync returns (Node's Buffer limit). */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/** What one streamed read takes from a file: big enough for few calls, small next to any weight file. */
const STREAM_CHUNK_BYTES = 8 * 2 ** 20;

export function folderSource(dir: string): ModelSource {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new StudioError('model', `The model folder ${dir} does not exist.`,
      'Pass --model with a folder holding config.json, tokenizer.json and model.safetensors, or run `npm run setup` for the default model.');
  }
  const fileStats = (file: string): { full: string; stats: Stats } => {
    const full = path.join(root, file);
    if (!existsSync(full)) throw new StudioError('model', `${file} is missing from ${root}.`);
    let stats;
    try {
      stats = statSync(full);
    } catch (e) {
      throw fileError(e, full, 'read');
    }
    if (!stats.isFile()) throw new StudioError('model', `${full} is ${kindOf(stats)}, not a file.`);
    return { full, stats };
  };
  return {
    description: root,
    async has(file) {
      return existsSync(path.join(root, file));
    },
    // Streamed files have no 2 GiB limit: only one chunk is in memory at a time.
    async *stream(file, onProgress) {
      const { full, stats } = fileStats(file);
      let handle;
      try {
        handle = await open(full, 'r');
      } catch (e) {
        throw fileError(e, full, 'read');
      }
      try {
        let loaded = 0;
        for (;;) {
          const chunk = new Uint8Array(STREAM_CHUNK_BYTES);
          let bytesRead: number;
          try {
            ({ bytesRead } = await handle.read(chunk, 0, chunk.byteLength, loaded));
          } catch (e) {
            throw fileError(e, full, 'read');
          }
          if (bytesRead === 0) break;
          loaded += bytesRead;
          onProgress?.({ file, loaded, total: stats.size });
          yield chunk.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    },
    async read(file, onProgress) {
      const { full, stats } = fileStats(file);
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
