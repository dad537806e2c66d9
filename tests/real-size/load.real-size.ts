/**
 * Real-size checkpoints load as the real models would: their published config.json and
 * tokenizer, from a folder and from a URL on a local server with byte progress, from a
 * hub endpoint with a file cache (the second load downloads nothing), and into a session
 * whose weights stay int8 on the backend.
 *
 * Node has no CacheStorage (globalThis.caches), so the Cache API itself is checked in
 * Chromium (e2e/real-size.spec.ts loads there); here the hub source runs over the same
 * FileCache interface with memoryFileCache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { countParameters } from '../../src/model/config';
import { loadModelPackage, quantizeOnLoad, type ModelPackage, type ModelSource, type ProgressCallback } from '../../src/model/package';
import { hubSource, memoryFileCache, urlSource } from '../../src/model/sources';
import { TextTokenizer } from '../../src/tokenizer/tokenizer';
import { EXPECTED, MODELS, hasCheckpoint, missingNote, mib, modelDir, serveFolder, stamp, timed, weightFiles, type RealSizeName } from './realSize';

type Progress = Parameters<ProgressCallback>[0];

/** Loads a package, keeping every progress event. */
async function loadWithProgress(source: ModelSource): Promise<{ pkg: ModelPackage; events: Progress[] }> {
  const events: Progress[] = [];
  const pkg = await loadModelPackage(source, (p) => events.push({ ...p }));
  return { pkg, events };
}

/** Every weight file reported, its bytes never going back, ending at the file's size (the total known up front when `totalKnown`). */
function expectByteProgress(name: RealSizeName, events: Progress[], totalKnown: boolean): void {
  const files = weightFiles(name);
  expect(new Set(events.map((e) => e.file))).toEqual(new Set(files.map((f) => f.file)));
  for (const { file, size } of files) {
    const mine = events.filter((e) => e.file === file);
    expect(mine.length).toBeGreaterThan(0);
    for (let i = 1; i < mine.length; i++) expect(mine[i].loaded).toBeGreaterThanOrEqual(mine[i - 1].loaded);
    expect(mine[mine.length - 1].loaded).toBe(size);
    for (const e of mine) {
      expect(e.loaded).toBeLessThanOrEqual(size);
      if (totalKnown) expect(e.total).toBe(size);
    }
  }
}

/** The same tensors, byte for byte. */
function expectSameWeights(a: ModelPackage, b: ModelPackage): void {
  expect(b.weights.names).toEqual(a.weights.names);
  for (const n of a.weights.names) {
    const x = a.weights.stored(n), y = b.weights.stored(n);
    expect(y.dtype).toBe(x.dtype);
    expect(y.shape).toEqual(x.shape);
    expect(Buffer.from(y.bytes.buffer, y.bytes.byteOffset, y.bytes.byteLength)
      .equals(Buffer.from(x.bytes.buffer, x.bytes.byteOffset, x.bytes.byteLength)), n).toBe(true);
  }
}

for (const name of MODELS) {
  const present = hasCheckpoint(name);
  if (!present) process.stderr.write(`[real-size] skipping ${name}: ${missingNote(name)}\n`);

  describe.skipIf(!present)(`${name} at real size`, () => {
    const expected = EXPECTED[name];

    it('config.json is the published one and parses to the real shape; the tokenizer fits the embedding', async () => {
      const source = folderSource(modelDir(name));
      const raw = JSON.parse(new TextDecoder().decode(await source.read('config.json')));
      expect(raw.torch_dtype).toBe({ F32: 'float32', BF16: 'bfloat16', F16: 'float16' }[stamp(name)!.dtype]);
      const { parseModelConfig } = await import('../../src/model/config');
      const cfg = parseModelConfig(raw);
      expect({
        architecture: cfg.architecture, modelType: cfg.modelType, vocabSize: cfg.vocabSize, hiddenSize: cfg.hiddenSize, layers: cfg.numLayers,
        heads: cfg.numHeads, kvHeads: cfg.numKeyValueHeads, intermediate: cfg.intermediateSize, maxPositions: cfg.maxPositions,
        normEps: cfg.normEps, bos: cfg.bosTokenId, eos: cfg.eosTokenIds[0], attentionBias: cfg.attentionBias, tied: cfg.tieWordEmbeddings,
      }).toEqual({
        architecture: expected.architecture, modelType: expected.modelType, vocabSize: expected.vocabSize, hiddenSize: expected.hiddenSize,
        layers: expected.layers, heads: expected.heads, kvHeads: expected.kvHeads, intermediate: expected.intermediate,
        maxPositions: expected.maxPositions, normEps: expected.normEps, bos: expected.bos, eos: expected.eos,
        attentionBias: expected.attentionBias, tied: true,
      });
      if (expected.modelType !== 'gpt2') expect(cfg.ropeTheta).toBe(expected.ropeTheta);
      expect(countParameters(cfg)).toBe(expected.parameters);

      const tokenizerJson = JSON.parse(new TextDecoder().decode(await source.read('tokenizer.json')));
      const tokenizerConfig = JSON.parse(new TextDecoder().decode(await source.read('tokenizer_config.json')));
      const tokenizer = TextTokenizer.fromJson(tokenizerJson, tokenizerConfig);
      expect(tokenizer.vocabSize).toBeLessThanOrEqual(expected.vocabSize);
      expect(tokenizer.eosId).toBe(expected.eos);
      const text = 'The quick brown fox, 2024 — naïve café.';
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
      if (name === 'gpt2') {
        // GPT-2's real vocabulary: the ids every GPT-2 tokenizer gives.
        expect(tokenizer.vocabSize).toBe(50257);
        expect(tokenizer.encode('Hello world')).toEqual([15496, 995]);
      }
      if (name === 'qwen2.5-0.5b') {
        // The Qwen family's real tokenizer.json: 151,643 BPE pieces and its added tokens.
        expect(tokenizer.vocabSize).toBeGreaterThan(151643);
        expect(tokenizer.tokenToId('<|endoftext|>')).toBe(151643);
        expect(tokenizer.encode('Hello world')).toEqual([9707, 1879]);
      }
      if (name.startsWith('smollm2')) {
        expect(tokenizer.vocabSize).toBe(49152);
        expect(tokenizer.tokenToId('<|endoftext|>')).toBe(0);
      }
    });

    it('loads from its folder (folderSource) with byte progress for every weight file', async () => {
      const { pkg, events } = await timed(`${name}: load from folder`, () => loadWithProgress(folderSource(modelDir(name))));
      expectByteProgress(name, events, true);
      expect(pkg.config.vocabSize).toBe(expected.vocabSize);
      expect(Object.keys(pkg.weights.bytesByDtype())).toEqual([stamp(name)!.dtype]); // as generated (--dtype), by default what the real model ships
    });

    describe('over http', () => {
      let server: Awaited<ReturnType<typeof serveFolder>>;
      beforeAll(async () => {
        server = await serveFolder(modelDir(name));
      });
      afterAll(async () => {
        await server?.close();
      });

      it('loads from a URL (urlSource) with streamed byte progress, the same bytes as from the folder', async () => {
        const { pkg, events } = await timed(`${name}: load from URL`, () => loadWithProgress(urlSource(server.url)));
        expectByteProgress(name, events, true);
        // Streamed: many events per file, not one at the end.
        for (const { file } of weightFiles(name)) expect(events.filter((e) => e.file === file).length).toBeGreaterThan(10);
        const fromFolder = await loadModelPackage(folderSource(modelDir(name)));
        expectSameWeights(fromFolder, pkg);
      });

      it('loads from a hub endpoint into a file cache; the second load reads every file from the cache', async () => {
        expect((globalThis as { caches?: unknown }).caches).toBeUndefined(); // Node: the Cache API is checked in Chromium
        const cache = memoryFileCache();
        const options = { endpoint: server.url, cache };
        const first = await timed(`${name}: load from hub endpoint`, () => loadWithProgress(hubSource(`test-org/${name}`, 'main', options)));
        expectByteProgress(name, first.events, true);
        const downloaded = server.requests.filter((r) => r.startsWith('GET')).length;
        expect(downloaded).toBeGreaterThan(weightFiles(name).length);
        const before = server.requests.length;
        const second = await timed(`${name}: load from the cache`, () => loadWithProgress(hubSource(`test-org/${name}`, 'main', options)));
        expect(server.requests.length).toBe(before);
        expectByteProgress(name, second.events, true);
        expectSameWeights(first.pkg, second.pkg);
        const cached = [...cache.entries.values()].reduce((a, b) => a + (b?.byteLength ?? 0), 0);
        process.stderr.write(`[real-size] ${name}: ${mib(cached)} in the file cache\n`);
      });
    });

    it('quantizes while streaming from the folder: the bytes quantizing the whole file gives, with byte progress', async () => {
      const events: Progress[] = [];
      const streamed = await timed(`${name}: load quantizing while streaming`,
        () => loadModelPackage(folderSource(modelDir(name)), (p) => events.push({ ...p }), { quantize: true }));
      expectByteProgress(name, events, true);
      for (const { file } of weightFiles(name)) expect(events.filter((e) => e.file === file).length).toBeGreaterThan(10);
      expectSameWeights(quantizeOnLoad(await loadModelPackage(folderSource(modelDir(name)))), streamed);
    });

    it('opens on wasm quantized to int8, with the weights on the backend at most 30% of float32', async () => {
      const backend = await selectBackend('wasm');
      const session = await timed(`${name}: open on wasm (int8)`, () => ModelSession.open(folderSource(modelDir(name)), backend, undefined, { quantize: true }));
      try {
        const facts = session.facts();
        expect(facts.parameters).toBe(expected.parameters);
        expect(facts.quantization).toContain('int8');
        const float32Bytes = expected.parameters * 4;
        process.stderr.write(`[real-size] ${name}: ${mib(facts.backendBytes)} of weights on wasm (${JSON.stringify(facts.backendBytesByDtype)}), `
          + `${(100 * facts.backendBytes / float32Bytes).toFixed(1)}% of float32\n`);
        expect(facts.backendBytes).toBeLessThanOrEqual(0.3 * float32Bytes);
      } finally {
        session.dispose();
      }
    });
  });
}
