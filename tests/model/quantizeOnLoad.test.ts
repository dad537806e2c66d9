/**
 * Quantizing while a float checkpoint streams in gives exactly the int8 package that
 * quantizing it whole in memory gives (tensor for tensor, byte for byte), whatever the
 * chunk and block sizes, for every architecture and float dtype; the weights file is then
 * never read whole; and a bad file fails with the same message either way.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { isStudioError } from '../../src/errors';
import { parseSafetensors, writeSafetensors, type SafetensorsFile, type TensorToWrite } from '../../src/formats/safetensors';
import { modelFingerprint } from '../../src/model/fingerprint';
import { loadModelPackage, quantizeOnLoad, saveStudioPackage, type ModelPackage, type ModelSource } from '../../src/model/package';
import { quantizeWhileStreaming } from '../../src/model/quantizeOnLoad';
import { fileListSource } from '../../src/model/sources';
import { CHECKPOINTS, checkpointDir, checkpointFiles, memorySource } from './checkpoints';

/** A memory source that also streams, in chunks of `chunkBytes`, and counts whole reads per file. */
function streamingSource(files: Map<string, Uint8Array>, chunkBytes: number): ModelSource & { wholeReads: string[] } {
  const inner = memorySource(files);
  const wholeReads: string[] = [];
  return {
    ...inner,
    wholeReads,
    async read(file, onProgress) {
      wholeReads.push(file);
      return inner.read(file, onProgress);
    },
    async *stream(file) {
      const bytes = files.get(file)!;
      for (let at = 0; at < bytes.byteLength; at += chunkBytes) yield bytes.slice(at, at + chunkBytes);
    },
  };
}

function tensorsOf(pkg: ModelPackage) {
  return pkg.weights.names.map((name) => {
    const t = pkg.weights.stored(name);
    return { name, dtype: t.dtype, shape: t.shape, bytes: Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength).toString('base64') };
  });
}

function expectSamePackage(streamed: ModelPackage, whole: ModelPackage): void {
  expect(streamed.config.quantization).toEqual(whole.config.quantization);
  expect(streamed.config.raw).toEqual(whole.config.raw);
  expect(tensorsOf(streamed)).toEqual(tensorsOf(whole));
  expect(modelFingerprint(streamed.config, streamed.weights)).toEqual(modelFingerprint(whole.config, whole.weights));
}

/** The llama fixture with every float tensor stored as bfloat16 (the top half of each float32). */
function asBf16(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const parsed: SafetensorsFile = parseSafetensors(files.get('model.safetensors')!);
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of parsed.tensors) {
    const bf16 = new Uint8Array(t.bytes.byteLength / 2);
    for (let i = 0; i < bf16.byteLength / 2; i++) {
      bf16[2 * i] = t.bytes[4 * i + 2];
      bf16[2 * i + 1] = t.bytes[4 * i + 3];
    }
    out[name] = { dtype: 'BF16', shape: t.shape, data: bf16 };
  }
  return new Map([...files, ['model.safetensors', writeSafetensors(out, { format: 'pt' })]]);
}

describe('quantizing while a checkpoint streams in', () => {
  for (const name of CHECKPOINTS) {
    it(`${name}: the package from a folder, streamed, equals quantizeOnLoad of the whole file`, async () => {
      const whole = quantizeOnLoad(await loadModelPackage(folderSource(checkpointDir(name))));
      const streamed = await loadModelPackage(folderSource(checkpointDir(name)), undefined, { quantize: true });
      expectSamePackage(streamed, whole);
      expect(streamed.weights.names.some((n) => streamed.weights.stored(n).dtype === 'I8')).toBe(true);
      // The int8 values in one allocation per shard (whole: for the file): dropped once the
      // model is built, it goes back to the system whole (see Int8Arena).
      const shards = readdirSync(checkpointDir(name)).filter((f) => f.endsWith('.safetensors')).length;
      for (const [pkg, allocations] of [[streamed, shards], [whole, 1]] as const) {
        const buffers = new Set(pkg.weights.names.filter((n) => pkg.weights.stored(n).dtype === 'I8').map((n) => pkg.weights.stored(n).bytes.buffer));
        expect(buffers.size).toBe(allocations);
      }
    });
  }

  it('gives the same bytes for any chunk size, one row per block, and bfloat16 weights, never reading the weights whole', async () => {
    for (const [label, files] of [['F32', checkpointFiles('llama')], ['BF16', asBf16(checkpointFiles('llama'))], ['F16', checkpointFiles('qwen2')]] as const) {
      const whole = quantizeOnLoad(await loadModelPackage(memorySource(files)));
      for (const chunkBytes of [1, 7, 4096, 1 << 30]) {
        const source = streamingSource(files, chunkBytes);
        const streamed = await loadModelPackage(source, undefined, { quantize: true });
        expectSamePackage(streamed, whole);
        expect(source.wholeReads, `${label} in chunks of ${chunkBytes}`).not.toContain('model.safetensors');
      }
      const pkg = await loadModelPackage(memorySource(files));
      const oneRowBlocks = await quantizeWhileStreaming(streamingSource(files, 13).stream!('model.safetensors'), 'model.safetensors', pkg.config.modelType, 1);
      const wholeShard = quantizeOnLoad(pkg);
      expect(oneRowBlocks.tensors.size).toBe(wholeShard.weights.names.length);
      for (const [tensorName, t] of oneRowBlocks.tensors) {
        expect(Buffer.from(t.bytes).equals(Buffer.from(wholeShard.weights.stored(tensorName).bytes)), `${label} ${tensorName}`).toBe(true);
      }
    }
  });

  it('streams dropped files in Blob slices, with byte progress, to the same package', async () => {
    const files = checkpointFiles('gpt2');
    const dropped = [...files].map(([name, bytes]) => ({ name: `gpt2/${name}`, file: new Blob([new Uint8Array(bytes)]) }));
    const progress: { file: string; loaded: number; total: number | null }[] = [];
    const streamed = await loadModelPackage(fileListSource(dropped), (p) => progress.push({ ...p }), { quantize: true });
    expectSamePackage(streamed, quantizeOnLoad(await loadModelPackage(memorySource(files))));
    const weightsProgress = progress.filter((p) => p.file === 'model.safetensors');
    expect(weightsProgress.at(-1)).toEqual({ file: 'model.safetensors', loaded: files.get('model.safetensors')!.byteLength, total: files.get('model.safetensors')!.byteLength });
  });

  it('reads an int8 package as it is, and keeps float weights float without `quantize`', async () => {
    const float = await loadModelPackage(streamingSource(checkpointFiles('llama'), 4096));
    expect(float.config.quantization).toBeNull();
    expect(new Set(float.weights.names.map((n) => float.weights.stored(n).dtype))).toEqual(new Set(['F32']));
    const int8Files = saveStudioPackage(quantizeOnLoad(float));
    const source = streamingSource(int8Files, 4096);
    const int8 = await loadModelPackage(source, undefined, { quantize: true });
    expect(source.wholeReads).toContain('model.safetensors');
    expectSamePackage(int8, await loadModelPackage(memorySource(int8Files)));
  });

  it('fails a truncated or foreign weights file with the message reading it whole gives', async () => {
    const files = checkpointFiles('llama');
    const shard = files.get('model.safetensors')!;
    const variants: [string, Uint8Array][] = [
      ['cut in the data', shard.subarray(0, shard.byteLength - 100)],
      ['cut in the header', shard.subarray(0, 40)],
      ['empty', new Uint8Array(0)],
      ['a Git LFS pointer', new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n')],
      ['not safetensors', new TextEncoder().encode('PK\u0003\u0004 this is a zip file, not weights at all.........')],
    ];
    for (const [label, bytes] of variants) {
      const broken = new Map([...files, ['model.safetensors', bytes]]);
      const message = async (source: ModelSource) => {
        try {
          await loadModelPackage(source, undefined, { quantize: true });
          return 'loaded';
        } catch (e) {
          if (!isStudioError(e)) throw e;
          return `${e.code}: ${e.message}`;
        }
      };
      const whole = await message(memorySource(broken));
      expect(whole, label).toMatch(/^safetensors: /);
      expect(await message(streamingSource(broken, 16)), label).toBe(whole);
    }
  });
});
