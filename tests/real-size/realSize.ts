/**
 * The real-size checkpoints of scripts/make-real-size-checkpoints.ts (git-ignored, in
 * .cache/real-size/ or $REAL_SIZE_DIR) and their numpy reference (scripts/real-size-reference.py),
 * for the tests run by `npm run test:real-size`. A test of a model whose checkpoint is
 * missing is skipped, and says how to make it.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { repoRoot } from '../helpers';

export const REAL_SIZE_DIR = path.resolve(process.env.REAL_SIZE_DIR ?? path.join(repoRoot, '.cache', 'real-size'));

export type RealSizeName = 'smollm2-135m' | 'smollm2-360m' | 'qwen2.5-0.5b' | 'gpt2';

/**
 * What each real model is, from its model card and config (independent of the generator):
 * the published parameter count (tied embeddings counted once) and the shape.
 */
export const EXPECTED: Record<RealSizeName, {
  architecture: string; modelType: string; parameters: number; vocabSize: number; hiddenSize: number; layers: number; heads: number;
  kvHeads: number; intermediate: number; maxPositions: number; ropeTheta: number; normEps: number; bos: number; eos: number;
  attentionBias: boolean; dtype: string;
}> = {
  'smollm2-135m': {
    architecture: 'LlamaForCausalLM', modelType: 'llama', parameters: 134_515_008, vocabSize: 49152, hiddenSize: 576, layers: 30, heads: 9,
    kvHeads: 3, intermediate: 1536, maxPositions: 8192, ropeTheta: 100000, normEps: 1e-5, bos: 0, eos: 0, attentionBias: false, dtype: 'BF16',
  },
  'smollm2-360m': {
    architecture: 'LlamaForCausalLM', modelType: 'llama', parameters: 361_821_120, vocabSize: 49152, hiddenSize: 960, layers: 32, heads: 15,
    kvHeads: 5, intermediate: 2560, maxPositions: 8192, ropeTheta: 100000, normEps: 1e-5, bos: 0, eos: 0, attentionBias: false, dtype: 'BF16',
  },
  'qwen2.5-0.5b': {
    architecture: 'Qwen2ForCausalLM', modelType: 'qwen2', parameters: 494_032_768, vocabSize: 151936, hiddenSize: 896, layers: 24, heads: 14,
    kvHeads: 2, intermediate: 4864, maxPositions: 32768, ropeTheta: 1_000_000, normEps: 1e-6, bos: 151643, eos: 151643, attentionBias: true, dtype: 'BF16',
  },
  gpt2: {
    architecture: 'GPT2LMHeadModel', modelType: 'gpt2', parameters: 124_439_808, vocabSize: 50257, hiddenSize: 768, layers: 12, heads: 12,
    kvHeads: 12, intermediate: 3072, maxPositions: 1024, ropeTheta: 10000, normEps: 1e-5, bos: 50256, eos: 50256, attentionBias: false, dtype: 'F32',
  },
};

export const ALL_MODELS = Object.keys(EXPECTED) as RealSizeName[];

/** The models to test: all, or those named in $REAL_SIZE_MODELS (comma-separated). */
export const MODELS: RealSizeName[] = process.env.REAL_SIZE_MODELS
  ? process.env.REAL_SIZE_MODELS.split(',').map((s) => s.trim()).filter((s): s is RealSizeName => (ALL_MODELS as string[]).includes(s))
  : ALL_MODELS;

export const modelDir = (name: RealSizeName) => path.join(REAL_SIZE_DIR, name);

export interface Stamp {
  generator: number;
  model: string;
  dtype: string;
  seed: number;
  maxShardBytes: number;
  tokenizer: string;
  files: Record<string, number>;
}

/** The generator's record of a complete checkpoint, or null when it is missing or incomplete. */
export function stamp(name: RealSizeName): Stamp | null {
  const file = path.join(modelDir(name), 'real-size.json');
  if (!existsSync(file)) return null;
  const s = JSON.parse(readFileSync(file, 'utf8')) as Stamp;
  for (const [f, size] of Object.entries(s.files)) {
    const full = path.join(modelDir(name), f);
    if (!existsSync(full) || statSync(full).size !== size) return null;
  }
  return s;
}

export const hasCheckpoint = (name: RealSizeName) => stamp(name) !== null;

/** The safetensors files of a checkpoint (one, or the shards), with their sizes. */
export function weightFiles(name: RealSizeName): { file: string; size: number }[] {
  const s = stamp(name)!;
  return Object.entries(s.files).filter(([f]) => f.endsWith('.safetensors')).map(([file, size]) => ({ file, size }));
}

export function missingNote(name: RealSizeName): string {
  return `no real-size checkpoint ${name} in ${REAL_SIZE_DIR}: run \`npm run real-size -- --model ${name}\``;
}

export interface RealSizeReference {
  meta: { version: number; stamp: { generator: number; model: string; dtype: string; seed: number; maxShardBytes: number }; seconds: number };
  ids: number[];
  positions: number[];
  /** [positions.length, V] from the weights as stored, float64. */
  logits: number[][];
  /** The same with the studio's int8 quantization of every weight matrix. */
  int8_logits: number[][];
  train: { input_ids: number[]; target: number; prompt: number[][]; loss: number; int8_loss: number };
}

/** The numpy reference when it was computed for the checkpoint as it is now, else null. */
export function reference(name: RealSizeName): RealSizeReference | null {
  const s = stamp(name);
  const file = path.join(modelDir(name), 'reference.json');
  if (!s || !existsSync(file)) return null;
  const r = JSON.parse(readFileSync(file, 'utf8')) as RealSizeReference;
  const m = r.meta.stamp;
  if (m.generator !== s.generator || m.dtype !== s.dtype || m.seed !== s.seed || m.maxShardBytes !== s.maxShardBytes) return null;
  return r;
}

export function referenceNote(name: RealSizeName): string {
  return `no numpy reference for the checkpoint ${name} as it is now: run \`python3 scripts/real-size-reference.py --model ${name}\``;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function rssMiB(): string {
  const m = process.memoryUsage();
  return `rss ${mib(m.rss)}, array buffers ${mib(m.arrayBuffers)}`;
}

/**
 * A static server on 127.0.0.1 over a folder: GET and HEAD with content-length, the body
 * streamed from disk; every request is counted. As a hub it also answers
 * /<repo>/resolve/<rev>/<file> from the same folder.
 */
export async function serveFolder(dir: string): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const file = path.basename(url.replace(/^\/[^/]+\/[^/]+\/resolve\/[^/]+\//, '/'));
    const full = path.join(dir, file);
    if (!file || !existsSync(full) || !statSync(full).isFile()) {
      res.writeHead(404, 'Not Found', { 'x-error-code': 'EntryNotFound' }).end();
      return;
    }
    const size = statSync(full).size;
    res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'content-length': String(size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(full, { highWaterMark: 1 << 20 }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Timings the tests print, for the report (never asserted). */
export function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  return f().then((v) => {
    process.stderr.write(`[real-size] ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s (${rssMiB()})\n`);
    return v;
  });
}
