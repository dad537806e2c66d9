/**
 * A loaded model keeps one copy of its weights: the backend's. The package's bytes are
 * dropped once the model is built and read again from the source for the work that needs
 * them, which must then be the same weights.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { selectBackend, type BackendChoice } from '../../src/engine/backend';
import { baseModelZip } from '../../src/engine/adapters';
import { ModelSession } from '../../src/engine/session';
import type { EngineEvent } from '../../src/engine/api';
import { StudioEngine } from '../../src/engine/studio';
import type { ModelSource, ProgressCallback } from '../../src/model/package';
import { parseSafetensors, toFloat32, writeSafetensors, type TensorToWrite } from '../../src/formats/safetensors';
import { hasSharedModel, packageDir } from '../helpers';

const NORM = 'model.norm.weight';
let cpu: BackendChoice;
let folder: string;

beforeAll(async () => {
  cpu = await selectBackend('cpu');
  folder = mkdtempSync(path.join(tmpdir(), 'session-'));
  if (hasSharedModel) cpSync(packageDir('stories260K'), folder, { recursive: true });
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function logitsOf(session: ModelSession): Float32Array {
  return tf.tidy(() => {
    const ids = tf.tensor2d([session.promptIds('Once upon a time')], undefined, 'int32');
    return session.model.logits(session.model.forward({ inputsEmbeds: session.model.embed(ids) }).hidden).dataSync() as Float32Array;
  });
}

/** Rewrites the folder's weights with one value of the final norm changed, as a file edited on disk would be. */
function editNormOnDisk(): void {
  const file = path.join(folder, 'model.safetensors');
  const parsed = parseSafetensors(readFileSync(file));
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, t] of parsed.tensors) {
    const data = t.dtype === 'F32' ? toFloat32(t) : new Int8Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.byteLength));
    tensors[name] = { dtype: t.dtype, shape: t.shape, data };
  }
  const norm = tensors[NORM].data as Float32Array;
  norm[0] += 0.5;
  writeFileSync(file, writeSafetensors(tensors, parsed.metadata));
}

type ProgressEvent = Parameters<ProgressCallback>[0];

describe.skipIf(!hasSharedModel)('ModelSession: the weights live on the backend only', () => {
  it('drops the package\'s bytes once built; facts, fingerprint and logits equal a session that keeps them', async () => {
    const kept = await ModelSession.open(folderSource(folder), cpu, undefined, { quantize: true, keepHostWeights: true });
    const dropped = await ModelSession.open(folderSource(folder), cpu, undefined, { quantize: true });
    try {
      expect(kept.pkg.weights.released).toBe(false);
      expect(dropped.pkg.weights.released).toBe(true);
      expect(() => dropped.pkg.weights.float(NORM)).toThrow(`The weight "${NORM}" is no longer in memory`);
      expect(dropped.pkg.weights.shape(NORM)).toEqual(kept.pkg.weights.shape(NORM));
      expect(dropped.facts().fileBytesByDtype).toEqual(kept.facts().fileBytesByDtype);
      expect(dropped.facts().fileBytesByDtype.I8).toBeGreaterThan(0);
      expect(dropped.fingerprint).toEqual(kept.fingerprint);
      expect(logitsOf(dropped)).toEqual(logitsOf(kept));
      // Read again, they are the same bytes the kept session holds.
      const again = await dropped.hostPackage();
      expect(again.weights.released).toBe(false);
      for (const name of kept.pkg.weights.names) expect(again.weights.stored(name).bytes).toEqual(kept.pkg.weights.stored(name).bytes);
      expect(await kept.hostPackage()).toBe(kept.pkg);
    } finally {
      kept.dispose();
      dropped.dispose();
    }
  });

  it('a read again gives each file\'s total from the first read where the source says none (a compressed or streamed answer)', async () => {
    const inner = folderSource(folder);
    const unknown = (onProgress?: ProgressCallback): ProgressCallback | undefined => onProgress && ((p) => onProgress({ ...p, total: null }));
    const source: ModelSource = {
      description: inner.description, has: (file) => inner.has(file),
      read: (file, onProgress) => inner.read(file, unknown(onProgress)),
      ...(inner.stream ? { stream: (file: string, onProgress?: ProgressCallback) => inner.stream!(file, unknown(onProgress)) } : {}),
    };
    const first: ProgressEvent[] = [];
    const session = await ModelSession.open(source, cpu, (p) => first.push(p), { quantize: true });
    try {
      expect(first.length).toBeGreaterThan(0);
      expect(first.every((p) => p.total === null)).toBe(true);
      const again: ProgressEvent[] = [];
      await session.hostPackage((p) => again.push(p));
      const size = readFileSync(path.join(folder, 'model.safetensors')).byteLength;
      const weights = again.filter((p) => p.file === 'model.safetensors');
      expect(weights.length).toBeGreaterThan(0);
      expect(weights.every((p) => p.total === size)).toBe(true);
      expect(weights[weights.length - 1].loaded).toBe(size);
    } finally {
      session.dispose();
    }
  });

  it('rebuilds the same model from the source (as after a lost GPU device), and drops the bytes again', async () => {
    const session = await ModelSession.open(folderSource(folder), cpu, undefined, { quantize: true });
    const before = logitsOf(session);
    session.dispose();
    const rebuilt = await session.rebuild(cpu);
    try {
      expect(rebuilt.pkg.weights.released).toBe(true);
      expect(rebuilt.fingerprint).toEqual(session.fingerprint);
      expect(logitsOf(rebuilt)).toEqual(before);
    } finally {
      rebuilt.dispose();
    }
  });

  it('exports the base model from the source, and refuses once the files changed on disk since loading', async () => {
    const original = readFileSync(path.join(folder, 'model.safetensors'));
    const reading: Extract<EngineEvent, { event: 'exportProgress' }>[] = [];
    const engine = new StudioEngine((e) => {
      if (e.event === 'exportProgress') reading.push(e);
    });
    await engine.init('cpu');
    await engine.loadModel(folderSource(folder));
    try {
      expect(engine.session!.pkg.weights.released).toBe(true);
      const base = await engine.exportBaseModel();
      expect(base.blob.size).toBeGreaterThan(0);
      // The page shows that read: every byte of the weights file, as it was read; then the float32 weights as they are written.
      const weights = reading.filter((r) => r.file === 'model.safetensors');
      const read = weights.filter((r) => r.stage === 'reading');
      const written = weights.filter((r) => r.stage === 'writing');
      expect(weights).toEqual([...read, ...written]);
      expect(read.at(-1)).toEqual({ event: 'exportProgress', what: 'baseModel', stage: 'reading', file: 'model.safetensors', loaded: original.byteLength, total: original.byteLength });
      const float32 = unzipSync(new Uint8Array(await base.blob.arrayBuffer()))[`${base.folder}/model.safetensors`];
      expect(written.length).toBeGreaterThan(2);
      for (let i = 1; i < written.length; i++) expect(written[i].loaded).toBeGreaterThan(written[i - 1].loaded);
      expect(written.at(-1)).toEqual({ event: 'exportProgress', what: 'baseModel', stage: 'writing', file: 'model.safetensors', loaded: float32.byteLength, total: float32.byteLength });
      editNormOnDisk();
      await expect(engine.exportBaseModel()).rejects.toThrow(
        `The model's files in ${folder} changed since it was loaded: they are no longer the weights the studio holds.`);
      await expect(engine.session!.rebuild(cpu)).rejects.toThrow('changed since it was loaded');
    } finally {
      writeFileSync(path.join(folder, 'model.safetensors'), original);
      engine.session?.dispose();
    }
  });
});

describe('the base model for Python', () => {
  it('is refused, before the source is read again, where its float32 weights would pass the 4 GiB a zip file holds', async () => {
    let reads = 0;
    const shapes = new Map([['model.embed_tokens.weight', [151_936, 7_168]], ['model.norm.weight', [3_584]]]); // 4.06 GiB as float32
    const large = {
      name: 'Org/Large-7B',
      pkg: {
        hubId: 'Org/Large-7B', config: { quantization: null, raw: {} }, tokenizerJson: {}, tokenizerConfig: null,
        weights: { names: [...shapes.keys(), 'model.layers.0.mlp.down_proj.weight'], shape: (n: string) => shapes.get(n) ?? [3_584, 18_944], has: () => true, isQuantized: () => true },
      },
      hostPackage: async () => { reads++; throw new Error('read again'); },
    } as unknown as ModelSession;
    const refusal = baseModelZip(large);
    await expect(refusal).rejects.toThrow('The base model\'s weights as float32 would take 4.3 GiB, more than the 4 GiB one file in a zip can hold.');
    await expect(refusal).rejects.toMatchObject({ hint: expect.stringContaining('In Python, load the checkpoint the model came from (Org/Large-7B)') });
    expect(reads).toBe(0);
  });
});
