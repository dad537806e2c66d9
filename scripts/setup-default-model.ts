/**
 * Builds the studio's default model packages from karpathy's stories260K:
 *   public/models/stories260K/      int8 weights + per-row scales (what the studio loads)
 *   public/models/stories260K-f32/  float32 weights (the reference the int8 package is checked against)
 * each with config.json, tokenizer.json (converted from SentencePiece's tok512.model),
 * tokenizer_config.json and model.safetensors.
 *
 * Sources, in order: $STUDIO_SHARED_DIR/models/stories260K, ../shared/models/stories260K,
 * or the Hugging Face hub (karpathy/tinyllamas). Every file is checked against its pinned
 * SHA-256 before use. Runs before dev, build and test; does nothing when the packages are
 * already built from the same inputs by the same script version.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertLlama2c } from './convert/llama2c';
import { writeStudioPackage } from '../src/model/package';
import { parseSentencePieceModel, sentencePieceToTokenizerJson } from './convert/sentencepiece';

/** Bump when the package format or conversion changes, so existing packages are rebuilt. */
const SETUP_VERSION = 1;

const PINNED: Record<string, string> = {
  'stories260K.bin': 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696',
  'tok512.model': 'dfff07d929db979913f166ec94a6f5ecad4c70cfed8eb5c9cbe7e464455e46f5',
};
const OPTIONAL: Record<string, string> = {
  'sample_greedy.txt': '20313f6a048d3a0b5dc7a8100c2d61f9e9f05d1809c5417ee9f0c9f73ebb5af8',
};
const HUB_BASE = 'https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelsDir = path.join(root, 'public', 'models');

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function die(message: string): never {
  process.stderr.write(`setup: ${message}\n`);
  process.exit(1);
}

function localSourceDir(): string | null {
  const candidates = [
    process.env.STUDIO_SHARED_DIR && path.join(process.env.STUDIO_SHARED_DIR, 'models', 'stories260K'),
    path.resolve(root, '..', 'shared', 'models', 'stories260K'),
  ].filter((p): p is string => Boolean(p));
  return candidates.find((p) => existsSync(p)) ?? null;
}

async function readSource(name: string, dir: string | null): Promise<Uint8Array> {
  if (dir) {
    const file = path.join(dir, name);
    if (!existsSync(file)) die(`${file} is missing. Restore it, or remove the folder so setup downloads the model from the Hugging Face hub.`);
    return new Uint8Array(readFileSync(file));
  }
  const url = `${HUB_BASE}/${name}`;
  process.stderr.write(`setup: downloading ${url}\n`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    die(`could not download ${url} (${(e as Error).message}). Connect to the internet, or put the files in ../shared/models/stories260K/ (or set STUDIO_SHARED_DIR).`);
  }
  if (!response.ok) die(`downloading ${url} failed with HTTP ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

function verify(name: string, bytes: Uint8Array, expected: string, where: string): void {
  const actual = sha256(bytes);
  if (actual !== expected) {
    die(`${name} from ${where} has SHA-256 ${actual}, expected ${expected}. The file is corrupt or a different version: replace it with the original from karpathy/tinyllamas.`);
  }
}

function writePackage(dir: string, files: Record<string, string | Uint8Array>): void {
  // Write to a temporary folder and rename, so an interrupted setup never leaves half a package.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(tmp, name), content);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

async function main(): Promise<void> {
  const dir = localSourceDir();
  const where = dir ?? 'the Hugging Face hub';
  const stampFile = path.join(modelsDir, 'setup-stamp.json');
  const stamp = JSON.stringify({ version: SETUP_VERSION, inputs: PINNED });
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp
    && existsSync(path.join(modelsDir, 'stories260K', 'model.safetensors'))
    && existsSync(path.join(modelsDir, 'stories260K-f32', 'model.safetensors'))) {
    return;
  }

  const inputs: Record<string, Uint8Array> = {};
  for (const [name, sum] of Object.entries(PINNED)) {
    inputs[name] = await readSource(name, dir);
    verify(name, inputs[name], sum, where);
  }
  const extras: Record<string, Uint8Array> = {};
  if (dir) {
    for (const [name, sum] of Object.entries(OPTIONAL)) {
      const file = path.join(dir, name);
      if (!existsSync(file)) continue;
      const bytes = new Uint8Array(readFileSync(file));
      verify(name, bytes, sum, where);
      extras[name] = bytes;
    }
  }

  const checkpoint = convertLlama2c(inputs['stories260K.bin']);
  const tokenizerJson = JSON.stringify(sentencePieceToTokenizerJson(parseSentencePieceModel(inputs['tok512.model'])));
  const tokenizerConfig = JSON.stringify({
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    clean_up_tokenization_spaces: false,
    legacy: true,
    model_max_length: checkpoint.header.seqLen,
    tokenizer_class: 'LlamaTokenizerFast',
  }, null, 2) + '\n';
  const rawConfig = {
    ...checkpoint.config,
    _name_or_path: 'karpathy/tinyllamas/stories260K',
  };

  for (const quantize of [true, false]) {
    const id = quantize ? 'stories260K' : 'stories260K-f32';
    const pkg = writeStudioPackage(rawConfig, checkpoint.tensors, quantize);
    writePackage(path.join(modelsDir, id), {
      'config.json': pkg.configJson,
      'model.safetensors': pkg.safetensors,
      'tokenizer.json': tokenizerJson,
      'tokenizer_config.json': tokenizerConfig,
      ...extras,
    });
    process.stderr.write(`setup: wrote public/models/${id} (${pkg.safetensors.byteLength} bytes of weights)\n`);
  }
  writeFileSync(path.join(modelsDir, 'index.json'), JSON.stringify({
    default: 'stories260K',
    models: [
      { id: 'stories260K', name: 'stories260K (int8)', description: "karpathy's 260K-parameter Llama-2 trained on TinyStories, int8 per-channel", license: 'MIT' },
      { id: 'stories260K-f32', name: 'stories260K (float32)', description: 'the same model in float32, the reference for the int8 package', license: 'MIT' },
    ],
  }, null, 2) + '\n');
  writeFileSync(stampFile, stamp);
}

await main();
