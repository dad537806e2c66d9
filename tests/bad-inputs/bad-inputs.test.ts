/**
 * The bad-input corpus (corpus.ts) against the engine in Node: each case gives the user
 * exactly the message and hint listed there, as a StudioError (never an internal error),
 * and a failed load leaves what was loaded before in place and working.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { selectBackend, type BackendChoice } from '../../src/engine/backend';
import { StudioEngine } from '../../src/engine/studio';
import { runCli } from '../../src/cli/cli';
import type { AdapterInfo } from '../../src/engine/api';
import { isStudioError, type SerializedError } from '../../src/errors';
import { fileListSource, urlSource } from '../../src/model/sources';
import { hasSharedModel, packageDir } from '../helpers';
import {
  ADAPTER_CASES, CASES, CHECKPOINT_CASES, CLI_CASES, CSV_CASES, MODEL_CASES, PAGE_SPLIT, SETTINGS_CASES, SETTINGS_CSV, TRAINED_RUN,
  OTHER_MODEL, fixtureDir, fixtureFiles, type Expected, type Fixture, type ModelCase, type Serve, type Trained,
} from './corpus';

const byArea = [...new Set(CASES.map((c) => c.area))].map((a) => `${CASES.filter((c) => c.area === a).length} ${a}`).join(', ');
console.log(`bad-input corpus: ${CASES.length} cases (${byArea}); ${CASES.filter((c) => c.ui).length} also run in Chromium`);

/** The error as the user reads it; fails the test for anything that is not a StudioError. */
function seen(err: unknown): Expected {
  if (!isStudioError(err)) throw new Error(`expected a StudioError, got ${err instanceof Error ? err.stack : String(err)}`);
  return { code: err.code, message: err.message, ...(err.hint !== undefined ? { hint: err.hint } : {}) };
}

async function failure(run: () => Promise<unknown>): Promise<Expected | null> {
  try {
    await run();
    return null;
  } catch (err) {
    return seen(err);
  }
}

const fill = (e: Expected, values: Record<string, string>): Expected => {
  const sub = (s: string) => s.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
  return { ...e, message: sub(e.message), ...(e.hint !== undefined ? { hint: sub(e.hint) } : {}) };
};

async function engine(model: 'stories260K' | Fixture | null, warnings: string[] = []): Promise<StudioEngine> {
  const e = new StudioEngine((event) => {
    if (event.event === 'log' && event.level === 'warn') warnings.push(event.message);
  });
  await e.init('cpu');
  if (model === 'stories260K') await e.loadModel(folderSource(packageDir('stories260K')));
  else if (model) await e.loadModel(folderSource(fixtureDir(model)));
  return e;
}

async function withData(e: StudioEngine, csv = SETTINGS_CSV, validationFraction: number = PAGE_SPLIT.validationFraction) {
  const table = await e.loadTable('data.csv', new TextEncoder().encode(csv));
  return e.buildDataset(table.guess, { validationFraction, seed: PAGE_SPLIT.seed, splitColumn: null });
}

describe('the corpus', () => {
  it('has at least 40 cases, with unique ids, and a representative set for the page', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
    expect(CASES.filter((c) => c.ui).length).toBeGreaterThanOrEqual(8);
  });
});

describe('bad-input corpus: CSV files', () => {
  for (const c of CSV_CASES) {
    it(`${c.id}: ${c.describe}`, async () => {
      const e = await engine(null);
      let warnings: string[] = [];
      let rejected: { line: number; reason: string }[] = [];
      const error = await failure(async () => {
        const table = await e.loadTable(c.fileName, c.bytes());
        const dataset = e.buildDataset(table.guess, { ...PAGE_SPLIT, splitColumn: null });
        warnings = [...table.warnings, ...dataset.warnings];
        rejected = dataset.rejected;
        if (c.check?.rows !== undefined) expect(table.rowCount).toBe(c.check.rows);
        if (c.check?.previewRows !== undefined) expect(table.preview).toHaveLength(c.check.previewRows);
        if (c.check?.columns) expect(table.columns).toEqual(c.check.columns);
        if (c.check?.encoding) expect(table.encoding).toBe(c.check.encoding);
        if (c.check?.labels) expect(dataset.labels.map((l) => [l.name, l.count])).toEqual(c.check.labels);
        for (const cell of c.shows ?? []) expect(table.preview.flat()).toContain(cell);
      });
      expect(error).toEqual(c.error);
      if (c.warnings) expect(warnings).toEqual(c.warnings);
      if (c.rejected) expect(rejected).toEqual(c.rejected);
    });
  }
});

describe.skipIf(!hasSharedModel)('a 2,000,000-character cell trains, cut to the max length', () => {
  it('tokenizes only what fits and counts the text as truncated', async () => {
    const e = await engine('stories260K');
    const huge = CSV_CASES.find((c) => c.id === 'csv-huge-cell')!;
    const table = await e.loadTable(huge.fileName, huge.bytes());
    const dataset = e.buildDataset(table.guess, { validationFraction: 0.25, seed: 0, splitColumn: null });
    const info = await e.startTraining({ config: { steps: 1, batchSize: 1, maxLength: 32, numVirtualTokens: 2 }, verbalizer: dataset.verbalizer });
    expect(info.truncated).toBe(1);
    expect((await e.waitForRun())?.stoppedBy).toBe('completed');
  });
});

// ---- models -----------------------------------------------------------------------------

/** The test server: serves `folder` under `path`, answering as `serve` says first. */
let current: { path: string; files: Map<string, Uint8Array>; serve: Serve } | null = null;
const attempts = new Map<string, number>();

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = decodeURIComponent(req.url ?? '');
  if (!current || !url.startsWith(current.path)) {
    res.writeHead(404, 'Not Found').end();
    return;
  }
  const file = url.slice(current.path.length);
  const key = `${req.method} ${file}`;
  const attempt = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, attempt);
  const reply = current.serve({ method: req.method ?? 'GET', file, attempt });
  if (!reply) {
    const bytes = current.files.get(file);
    if (!bytes) {
      res.writeHead(404, 'Not Found').end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream', 'content-length': String(bytes.byteLength) });
    res.end(req.method === 'HEAD' ? undefined : bytes);
    return;
  }
  const body = typeof reply.body === 'string' ? new TextEncoder().encode(reply.body) : reply.body;
  res.writeHead(reply.status, reply.statusText ?? '', { ...(body && !reply.stallAfter ? { 'content-length': String(body.byteLength) } : {}), ...reply.headers });
  if (req.method === 'HEAD' || !body) res.end();
  else if (reply.stallAfter !== undefined) res.write(body.subarray(0, reply.stallAfter));
  else res.end(body);
}

describe('bad-input corpus: model folders and URLs', () => {
  let e: StudioEngine;
  let cpu: BackendChoice;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    // A model loaded first: every failed load must leave it in place and working.
    e = await engine('llama');
    cpu = await selectBackend('cpu');
    server = createServer(answer);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const source = (c: ModelCase) => {
    if (c.url) {
      current = { path: c.url.path, files: c.url.folder ? fixtureFiles(c.url.folder) : new Map(), serve: c.url.serve };
      attempts.clear();
      return urlSource(`${base}${c.url.path}`, c.url.options);
    }
    // As the page's folder picker hands them over: paths inside the picked folder.
    const picked = [...c.files!()].map(([name, bytes]) => ({ name: `my-model/${name}`, file: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
    return fileListSource(picked, 'the chosen files');
  };

  for (const c of MODEL_CASES) {
    it(`${c.id}: ${c.describe}`, async () => {
      const before = e.session!;
      const backend = e.backend!;
      if (c.gpu) {
        e.backend = { ...cpu, backend: 'webgpu', adapter: { vendor: 'test', architecture: '', description: 'a small test adapter', isFallbackAdapter: false, ...c.gpu } };
      }
      let error: Expected | null;
      try {
        error = await failure(() => e.loadModel(source(c)));
      } finally {
        e.backend = backend;
      }
      expect(error).toEqual(fill(c.error, { base }));
      for (const [request, n] of Object.entries(c.attempts ?? {})) expect([request, attempts.get(request)]).toEqual([request, n]);
      expect(e.session).toBe(before);
      const result = await e.session!.generate('the dog', { maxNewTokens: 3, stopAtEos: false });
      expect(result.generatedIds).toHaveLength(3);
    });
  }

  it('counts int8 weights packed, as WebGPU keeps them: a model only its float form would not fit loads', async () => {
    const backend = e.backend!;
    e.backend = { ...cpu, backend: 'webgpu', adapter: { vendor: 'test', architecture: '', description: 'a small test adapter', isFallbackAdapter: false, maxStorageBufferBindingSize: 1 << 20, maxBufferSize: 9216 } };
    try {
      const facts = await e.loadModel(folderSource(fixtureDir('gpt2')));
      expect(e.session!.pkg.config.quantization?.quant_method).toBe('studio_int8');
      expect(facts.architecture).toBe('GPT2LMHeadModel');
    } finally {
      e.backend = backend;
    }
  });
});

// ---- adapters and checkpoints ------------------------------------------------------------

describe.skipIf(!hasSharedModel)('bad-input corpus: adapters and checkpoints', () => {
  let trained: Trained;

  beforeAll(async () => {
    const e = await engine('stories260K');
    const dataset = await withData(e);
    await e.startTraining({ config: TRAINED_RUN, verbalizer: dataset.verbalizer });
    await e.waitForRun();
    const other = await engine(null);
    await other.loadModel(fileListSource([...OTHER_MODEL()].map(([name, bytes]) => ({ name, file: new Blob([bytes as Uint8Array<ArrayBuffer>]) }))));
    trained = {
      zip: (await e.exportAdapter()).bytes,
      files: await e.exportAdapterFiles(),
      checkpoint: (await e.exportCheckpoint()).bytes,
      fingerprint: e.session!.fingerprint,
      otherFingerprint: other.session!.fingerprint,
    };
  });

  it('starts from an adapter and a checkpoint that load', async () => {
    const e = await engine('stories260K');
    const dataset = await withData(e);
    expect((await e.importAdapter({ fileName: 'data-prompt-step2.zip', zip: trained.zip })).fingerprintMatches).toBe(true);
    const info = await e.startTraining({ config: { steps: 3 }, verbalizer: dataset.verbalizer, resumeFrom: trained.checkpoint.slice().buffer });
    expect(info.startStep).toBe(2);
    await e.waitForRun();
  });

  for (const c of ADAPTER_CASES) {
    it(`${c.id}: ${c.describe}`, async () => {
      const warnings: string[] = [];
      const e = await engine('stories260K', warnings);
      if (!c.noData) await withData(e);
      let info: AdapterInfo | null = null;
      expect(await failure(async () => {
        info = await e.importAdapter(c.input(trained));
      })).toEqual(c.error);
      if (c.warnings) expect(warnings).toEqual(c.warnings);
      if (c.info) expect(info).toMatchObject(c.info);
    });
  }

  for (const c of CHECKPOINT_CASES) {
    it(`${c.id}: ${c.describe}`, async () => {
      const e = await engine('stories260K');
      const dataset = await withData(e, c.data?.csv, c.data?.validationFraction);
      const bytes = c.bytes(trained).slice();
      expect(await failure(() => e.startTraining({ config: {}, verbalizer: dataset.verbalizer, resumeFrom: bytes.buffer })))
        .toEqual(c.error);
    });
  }
});

// ---- settings -------------------------------------------------------------------------------

describe.skipIf(!hasSharedModel)('bad-input corpus: training settings', () => {
  for (const c of SETTINGS_CASES) {
    it(`${c.id}: ${c.describe}`, async () => {
      const e = await engine('stories260K');
      const dataset = await withData(e);
      const error = await failure(async () => {
        await e.startTraining({ config: { batchSize: 4, ...c.config }, verbalizer: { ...dataset.verbalizer, ...c.verbalizer } });
        await e.waitForRun();
      });
      expect(error).toEqual(c.error);
    });
  }
});

// ---- the command line ---------------------------------------------------------------------------

describe('bad-input corpus: the command line', () => {
  for (const c of CLI_CASES) {
    const skip = c.skip?.() ?? (c.model && !hasSharedModel ? 'the default model is not built' : null);
    it.skipIf(skip !== null)(`${c.id}: ${c.describe}${skip ? ` (skipped: ${skip})` : ''}`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'studio-cli-case-'));
      try {
        const argv = c.setup(dir);
        let out = '';
        let err = '';
        let error: SerializedError | null = null;
        const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t), onError: (e) => (error = e) });
        const expected = fill(c.error, { dir });
        expect(error).toEqual(expected);
        // What the terminal shows: one line, message then hint, no stack; exit status 1; nothing on stdout.
        expect(code).toBe(1);
        expect(err.split('\n').filter((l) => l.startsWith('error:'))).toEqual([`error: ${expected.message}${expected.hint ? ` ${expected.hint}` : ''}`]);
        expect(err).not.toMatch(/^\s+at /m);
        expect(out).toBe('');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
