/**
 * The URL and hub sources against a local static server that answers like the Hugging Face
 * hub: /<repo>/resolve/<revision>/<file>, 404 with X-Error-Code for a missing file, 401 for
 * a missing repo. Behaviours per file (a stall, a web page) are switched on per test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { selectBackend, type BackendChoice } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { describeError } from '../../src/errors';
import { modelFingerprint } from '../../src/model/fingerprint';
import { loadModelPackage, quantizeOnLoad, type ModelPackage, type ProgressCallback } from '../../src/model/package';
import { cacheStorageFileCache, fileListSource, hubSource, memoryFileCache, urlSource, type FileCache } from '../../src/model/sources';
import { tf } from '../helpers';
import { checkpointFiles, maxAbsDiff, reference } from './checkpoints';

type Behaviour = (req: IncomingMessage, res: ServerResponse, attempt: number) => boolean;

/** repo → revision → files */
const repos = new Map<string, Map<string, Map<string, Uint8Array>>>();
/** file → what to do instead of serving it (return true when handled). */
const behaviours = new Map<string, Behaviour>();
const requests: string[] = [];
/** The Range header of each request that had one, as "file bytes=N-". */
const ranges: string[] = [];
const attempts = new Map<string, number>();
let server: Server;
let endpoint: string;
let cpu: BackendChoice;

function serve(req: IncomingMessage, res: ServerResponse): void {
  requests.push(`${req.method} ${req.url}`);
  const plain = /^\/plain\/([^/]+)$/.exec(req.url ?? '');
  const m = plain ? ['', 'org/plain', 'main', plain[1]] : /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  const [, repo, rev, file] = m;
  if (req.headers.range) ranges.push(`${file} ${req.headers.range}`);
  const key = `${req.method} ${file}`;
  const attempt = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, attempt);
  if (behaviours.get(file)?.(req, res, attempt)) return;
  const revisions = repos.get(repo);
  if (!revisions) {
    res.writeHead(401, 'Unauthorized', { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' }).end();
    return;
  }
  const bytes = revisions.get(decodeURIComponent(rev))?.get(file);
  if (!bytes) {
    res.writeHead(404, 'Not Found', { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found' }).end();
    return;
  }
  const type = file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
  // As the hub's storage does: "Range: bytes=N-" answers 206 with the rest.
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && Number(range[1]) < bytes.byteLength) {
    const from = Number(range[1]);
    res.writeHead(206, {
      'content-type': type, 'content-length': String(bytes.byteLength - from),
      'content-range': `bytes ${from}-${bytes.byteLength - 1}/${bytes.byteLength}`,
    });
    res.end(req.method === 'HEAD' ? undefined : bytes.subarray(from));
    return;
  }
  res.writeHead(200, { 'content-type': type, 'content-length': String(bytes.byteLength) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

beforeAll(async () => {
  cpu = await selectBackend('cpu');
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  repos.set('test-org/tiny-llama3', new Map([['main', checkpointFiles('llama3-untied')], ['refs/pr/1', checkpointFiles('llama')]]));
  repos.set('org/plain', new Map([['main', checkpointFiles('gpt2')]]));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  behaviours.clear();
  requests.length = 0;
  ranges.length = 0;
  attempts.clear();
});

const fast = { stallTimeoutMs: 200, retries: 1, retryDelayMs: 10 };

function firstCaseLogits(session: ModelSession): number[][] {
  const { ids } = reference('llama3-untied').cases[0];
  return tf.tidy(() => {
    const { hidden } = session.model.forward({ inputsEmbeds: session.model.embed(tf.tensor2d([ids], [1, ids.length], 'int32')) });
    return (session.model.logits(hidden).arraySync() as number[][][])[0];
  });
}

async function loadError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return describeError(e);
  }
  throw new Error('expected the load to fail');
}

describe('hub source', () => {
  it('loads a sharded BF16 checkpoint with progress, and a second load with the same cache makes no requests', async () => {
    const cache = memoryFileCache();
    const progress: string[] = [];
    const source = hubSource('test-org/tiny-llama3', 'main', { endpoint, cache });
    expect(source.hubId).toBe('test-org/tiny-llama3');
    const session = await ModelSession.open(source, cpu, ({ file, loaded, total }) => {
      if (loaded === total) progress.push(file);
    });
    expect(session.facts().hubId).toBe('test-org/tiny-llama3');
    expect(maxAbsDiff(firstCaseLogits(session), reference('llama3-untied').cases[0].logits)).toBeLessThan(1e-4);
    expect(progress).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(requests).toContain('HEAD /test-org/tiny-llama3/resolve/main/model.safetensors');
    expect(requests).toContain('GET /test-org/tiny-llama3/resolve/main/model-00002-of-00002.safetensors');
    // Kept by resolved URL, with the files the repo does not have remembered as absent.
    expect(cache.entries.get(`${endpoint}/test-org/tiny-llama3/resolve/main/model.safetensors`)).toBeNull();
    expect(cache.entries.get(`${endpoint}/test-org/tiny-llama3/resolve/main/config.json`)).toBeInstanceOf(Uint8Array);
    session.dispose();

    requests.length = 0;
    const again = await ModelSession.open(hubSource('test-org/tiny-llama3', 'main', { endpoint, cache }), cpu);
    expect(requests).toEqual([]);
    expect(maxAbsDiff(firstCaseLogits(again), reference('llama3-untied').cases[0].logits)).toBeLessThan(1e-4);
    again.dispose();
  });

  it('reads a revision with slashes as one path segment', async () => {
    const pkg = await loadModelPackage(hubSource('test-org/tiny-llama3', 'refs/pr/1', { endpoint }));
    expect(pkg.config.tieWordEmbeddings).toBe(true);
    expect(requests[0]).toBe('HEAD /test-org/tiny-llama3/resolve/refs%2Fpr%2F1/config.json');
  });

  it('a file the index lists but the repo lacks: HTTP 404 naming the file', async () => {
    behaviours.set('model-00002-of-00002.safetensors', (_req, res) => {
      res.writeHead(404, 'Not Found', { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found' }).end();
      return true;
    });
    const cache = memoryFileCache();
    expect(await loadError(ModelSession.open(hubSource('test-org/tiny-llama3', 'main', { endpoint, cache }), cpu))).toBe(
      `${endpoint}/test-org/tiny-llama3/resolve/main/model-00002-of-00002.safetensors answered HTTP 404 Not Found (Entry not found). `
      + 'The file model-00002-of-00002.safetensors is not at that address.');
    // Nothing half-loaded was kept as if it were the file.
    expect(cache.entries.has(`${endpoint}/test-org/tiny-llama3/resolve/main/model-00002-of-00002.safetensors`)).toBe(false);
  });

  it('a repo that does not exist (the hub answers 401) is not reported as a missing config.json', async () => {
    expect(await loadError(loadModelPackage(hubSource('nobody/nothing', 'main', { endpoint })))).toBe(
      `${endpoint}/nobody/nothing/resolve/main/config.json answered HTTP 401 Unauthorized (Repository not found). `
      + 'The model may be private or gated: the studio downloads only public files.');
  });

  it('a repo without config.json', async () => {
    repos.set('org/empty', new Map([['main', new Map()]]));
    expect(await loadError(loadModelPackage(hubSource('org/empty', 'v1', { endpoint })))).toBe(
      'No config.json in the Hugging Face repo org/empty (revision v1). '
      + 'A model folder needs config.json, tokenizer.json and model.safetensors (Hugging Face layout).');
  });

  it('an HTML page where a file should be is rejected, by content-type or by its first bytes', async () => {
    const page = '<!DOCTYPE html><html><body>Sign in to continue</body></html>';
    for (const contentType of ['text/html; charset=utf-8', 'application/octet-stream']) {
      behaviours.set('model-00001-of-00002.safetensors', (req, res) => {
        if (req.method === 'HEAD') return false;
        res.writeHead(200, { 'content-type': contentType, 'content-length': String(page.length) }).end(page);
        return true;
      });
      const cache = memoryFileCache();
      expect(await loadError(loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, cache })))).toBe(
        `${endpoint}/test-org/tiny-llama3/resolve/main/model-00001-of-00002.safetensors returned a web page instead of the file model-00001-of-00002.safetensors. `
        + 'Check the address: it should point at the folder that holds config.json.');
      expect(cache.entries.has(`${endpoint}/test-org/tiny-llama3/resolve/main/model-00001-of-00002.safetensors`)).toBe(false);
    }
  });

  it('a download that stalls is abandoned after stallTimeoutMs and retried', async () => {
    behaviours.set('model-00001-of-00002.safetensors', (req, res, attempt) => {
      if (req.method !== 'GET' || attempt > 1) return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '21728' });
      res.write(new Uint8Array(100)); // then nothing more
      return true;
    });
    const pkg = await loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, ...fast }));
    expect(pkg.weights.has('lm_head.weight')).toBe(true);
    expect(attempts.get('GET model-00001-of-00002.safetensors')).toBe(2);
  });

  it('a download that keeps stalling fails with a message saying so', async () => {
    behaviours.set('model-00001-of-00002.safetensors', (req, res) => {
      if (req.method !== 'GET') return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '21728' });
      res.write(new Uint8Array(100));
      return true;
    });
    expect(await loadError(loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, ...fast })))).toBe(
      `Could not download ${endpoint}/test-org/tiny-llama3/resolve/main/model-00001-of-00002.safetensors after 2 attempts: `
      + 'the download of model-00001-of-00002.safetensors stalled: no data for 0.2 s. Check the connection and the address, then try again.');
    expect(attempts.get('GET model-00001-of-00002.safetensors')).toBe(2);
  });

  it('a connection dropped mid-download is retried', async () => {
    behaviours.set('model-00002-of-00002.safetensors', (req, res, attempt) => {
      if (req.method !== 'GET' || attempt > 1) return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '13496' });
      res.write(new Uint8Array(100), () => res.destroy());
      return true;
    });
    const pkg = await loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, ...fast }));
    expect(pkg.weights.has('model.norm.weight')).toBe(true);
    expect(attempts.get('GET model-00002-of-00002.safetensors')).toBe(2);
  });

  it('a server that sends no headers in time, and one that answers 503, are retried', async () => {
    behaviours.set('config.json', (req, _res, attempt) => req.method === 'HEAD' && attempt === 1); // never answers
    behaviours.set('tokenizer.json', (req, res, attempt) => {
      if (req.method !== 'GET' || attempt > 1) return false;
      res.writeHead(503, 'Service Unavailable').end();
      return true;
    });
    const pkg = await loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, ...fast }));
    expect(pkg.config.ropeScaling?.ropeType).toBe('llama3');
    expect(attempts.get('HEAD config.json')).toBe(2);
    expect(attempts.get('GET tokenizer.json')).toBe(2);
  });

  it('refuses what is not a repo id', () => {
    expect(() => hubSource('not a repo')).toThrow('"not a repo" is not a Hugging Face repo id.');
    expect(() => hubSource('../../etc')).toThrow('is not a Hugging Face repo id');
  });
});

describe('URL source', () => {
  it('loads a package from a base URL, also from a server that refuses HEAD', async () => {
    const session = await ModelSession.open(urlSource(`${endpoint}/plain/`), cpu);
    expect(session.pkg.config.modelType).toBe('gpt2');
    session.dispose();

    const headRefused: Behaviour = (req, res) => {
      if (req.method !== 'HEAD') return false;
      res.writeHead(405, 'Method Not Allowed').end();
      return true;
    };
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) behaviours.set(f, headRefused);
    requests.length = 0;
    const pkg = await loadModelPackage(urlSource(`${endpoint}/plain`));
    expect(pkg.config.modelType).toBe('gpt2');
    // One request per file that is there: asking whether it is there already brings its bytes.
    expect(requests.filter((r) => r.startsWith('GET /plain/model.safetensors'))).toHaveLength(1);
  });

  it('asks for each file once: one GET per file that is there, no HEAD first, with progress', async () => {
    requests.length = 0;
    const progress: string[] = [];
    const pkg = await loadModelPackage(urlSource(`${endpoint}/plain/`), ({ file, loaded, total }) => {
      if (loaded === total) progress.push(file);
    });
    expect(pkg.config.modelType).toBe('gpt2');
    const asked = (file: string) => requests.filter((r) => r.endsWith(`/plain/${file}`));
    for (const file of ['config.json', 'tokenizer.json', 'model.safetensors']) expect(asked(file)).toEqual([`GET /plain/${file}`]);
    expect(progress).toContain('model.safetensors');
  });
});

// ---- streamed downloads ---------------------------------------------------------------

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const SHARD = 'model-00001-of-00002.safetensors';
const shardBytes = () => checkpointFiles('llama3-untied').get(SHARD)!;
const shardUrl = () => `${endpoint}/test-org/tiny-llama3/resolve/main/${SHARD}`;

/** The first `n` bytes of the shard, then nothing: a connection that stalls midway. */
function stallAfter(n: number, onlyAttempt = 1): Behaviour {
  return (req, res, attempt) => {
    if (req.method !== 'GET' || attempt > onlyAttempt) return false;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(shardBytes().byteLength) });
    res.write(shardBytes().subarray(0, n));
    return true;
  };
}

function expectSameQuantized(streamed: ModelPackage, whole: ModelPackage): void {
  expect(streamed.config.quantization).toEqual(whole.config.quantization);
  expect(streamed.weights.names).toEqual(whole.weights.names);
  expect(modelFingerprint(streamed.config, streamed.weights)).toEqual(modelFingerprint(whole.config, whole.weights));
}

/**
 * The browser's Cache API, as far as cacheStorageFileCache uses it: put() reads the
 * response's body to its end (so a stream that fails makes put fail), and refuses past a
 * quota as a full disk would.
 */
function fakeCacheStorage(quotaBytes = Infinity): { caches: CacheStorage; stored: Map<string, Uint8Array> } {
  const stored = new Map<string, { bytes: Uint8Array; headers: Headers }>();
  const cache = {
    async put(url: string, response: Response) {
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.byteLength > quotaBytes) throw new DOMException('Quota exceeded', 'QuotaExceededError');
      stored.set(url, { bytes, headers: response.headers });
    },
    async match(url: string) {
      const hit = stored.get(url);
      return hit ? new Response(hit.bytes as Uint8Array<ArrayBuffer>, { headers: hit.headers }) : undefined;
    },
  };
  return {
    caches: { open: async () => cache } as unknown as CacheStorage,
    get stored() {
      return new Map([...stored].map(([k, v]) => [k, v.bytes]));
    },
  };
}

async function withCaches<T>(caches: CacheStorage, body: (cache: FileCache) => Promise<T>): Promise<T> {
  const global = globalThis as { caches?: CacheStorage };
  const before = global.caches;
  global.caches = caches;
  try {
    return await body(cacheStorageFileCache(`test-${Math.random()}`)!);
  } finally {
    if (before === undefined) delete global.caches;
    else global.caches = before;
  }
}

describe('streamed downloads (a float checkpoint quantized as it arrives)', () => {
  it('a URL source streams each file in one GET, with progress, to the package that quantizing the whole file gives', async () => {
    const progress: { file: string; loaded: number; total: number | null }[] = [];
    const streamed = await loadModelPackage(urlSource(`${endpoint}/plain/`), (p) => progress.push(p), { quantize: true });
    expect(requests.filter((r) => r.endsWith('/plain/model.safetensors'))).toEqual(['GET /plain/model.safetensors']);
    const size = checkpointFiles('gpt2').get('model.safetensors')!.byteLength;
    expect(progress.filter((p) => p.file === 'model.safetensors').at(-1)).toEqual({ file: 'model.safetensors', loaded: size, total: size });
    expectSameQuantized(streamed, quantizeOnLoad(await loadModelPackage(urlSource(`${endpoint}/plain/`))));
  });

  it('a download that stalls midway goes on from where it stopped (a Range request), to the same bytes', async () => {
    behaviours.set(SHARD, stallAfter(1000));
    const bytes = await collect(hubSource('test-org/tiny-llama3', 'main', { endpoint, ...fast }).stream!(SHARD));
    expect(bytes).toEqual(shardBytes());
    expect(ranges).toEqual([`${SHARD} bytes=1000-`]);
    expect(attempts.get(`GET ${SHARD}`)).toBe(2);
  });

  it('from a server that ignores Range, the bytes already read are skipped', async () => {
    behaviours.set(SHARD, (req, res, attempt) => {
      if (attempt === 1) return stallAfter(1000)(req, res, attempt);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(shardBytes().byteLength) });
      res.end(shardBytes());
      return true;
    });
    const bytes = await collect(hubSource('test-org/tiny-llama3', 'main', { endpoint, ...fast }).stream!(SHARD));
    expect(bytes).toEqual(shardBytes());
    expect(ranges).toEqual([`${SHARD} bytes=1000-`]);
  });

  it('a download that keeps stalling, or a web page, fails as the whole-file read does', async () => {
    behaviours.set(SHARD, stallAfter(100, Infinity));
    const load = () => loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, ...fast }), undefined, { quantize: true });
    expect(await loadError(load())).toBe(
      `Could not download ${shardUrl()} after 2 attempts: the download of ${SHARD} stalled: no data for 0.2 s. Check the connection and the address, then try again.`);
    const page = '<!DOCTYPE html><html><body>Sign in to continue</body></html>';
    behaviours.set(SHARD, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(page.length) }).end(req.method === 'HEAD' ? undefined : page);
      return true;
    });
    expect(await loadError(load())).toBe(`${shardUrl()} returned a web page instead of the file ${SHARD}. `
      + 'Check the address: it should point at the folder that holds config.json.');
  });

  it('from the hub, a download goes to the cache and is read back from it; a second load asks for nothing', async () => {
    const fake = fakeCacheStorage();
    await withCaches(fake.caches, async (cache) => {
      const progress: Parameters<ProgressCallback>[0][] = [];
      const first = await loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, cache }), (p) => progress.push(p), { quantize: true });
      expect(fake.stored.get(shardUrl())).toEqual(shardBytes());
      expect(requests.filter((r) => r.includes(SHARD))).toEqual([`GET /test-org/tiny-llama3/resolve/main/${SHARD}`]);
      // Two passes over the shard, told apart: the download into the cache, then the read back from it; each only grows, to the whole file.
      const size = shardBytes().byteLength;
      const shard = progress.filter((p) => p.file === SHARD);
      const download = shard.filter((p) => !p.fromCache);
      const readBack = shard.filter((p) => p.fromCache);
      expect(shard).toEqual([...download, ...readBack]);
      for (const pass of [download, readBack]) {
        expect(pass.length).toBeGreaterThan(0);
        for (let i = 1; i < pass.length; i++) expect(pass[i].loaded).toBeGreaterThanOrEqual(pass[i - 1].loaded);
        expect(pass.at(-1)).toMatchObject({ loaded: size, total: size });
      }
      requests.length = 0;
      progress.length = 0;
      const again = await loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, cache }), (p) => progress.push(p), { quantize: true });
      expect(requests).toEqual([]);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.every((p) => p.fromCache)).toBe(true);
      expectSameQuantized(again, first);
      expectSameQuantized(first, quantizeOnLoad(await loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint }))));
    });
  });

  it('a full cache costs a second download, not the load; a failed download is not taken for a full cache', async () => {
    const full = fakeCacheStorage(1000);
    await withCaches(full.caches, async (cache) => {
      const pkg = await loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, cache }), undefined, { quantize: true });
      expect(pkg.weights.has('lm_head.weight')).toBe(true);
      expect(full.stored.has(shardUrl())).toBe(false);
      expect(requests.filter((r) => r === `GET /test-org/tiny-llama3/resolve/main/${SHARD}`)).toHaveLength(2);
    });
    attempts.clear();
    const roomy = fakeCacheStorage();
    await withCaches(roomy.caches, async (cache) => {
      behaviours.set(SHARD, stallAfter(100, Infinity));
      expect(await loadError(loadModelPackage(hubSource('test-org/tiny-llama3', 'main', { endpoint, cache, ...fast }), undefined, { quantize: true })))
        .toContain(`Could not download ${shardUrl()} after 2 attempts: the download of ${SHARD} stalled`);
      // Two attempts, not four: the failure was not mistaken for storage refusing the file.
      expect(attempts.get(`GET ${SHARD}`)).toBe(2);
      expect(roomy.stored.has(shardUrl())).toBe(false);
    });
  });
});

describe('file list source', () => {
  it('addresses dropped files by name, preferring the top of the folder when a subfolder repeats a name', async () => {
    const { fileListSource } = await import('../../src/model/sources');
    const files = checkpointFiles('qwen2');
    const dropped = [...files].map(([name, bytes]) => ({ name: `qwen2/${name}`, file: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
    dropped.unshift({ name: 'qwen2/original/config.json', file: new Blob(['{"model_type": "nonsense"}']) });
    const pkg = await loadModelPackage(fileListSource(dropped));
    expect(pkg.config.modelType).toBe('qwen2');
  });
});

describe('files from a dropped or picked folder', () => {
  it('name the model after the folder when config.json has no _name_or_path', async () => {
    const files = [...checkpointFiles('llama')].map(([name, bytes]) => ({ name: `my-llama/${name}`, file: new Blob([new Uint8Array(bytes)]) }));
    const pkg = await loadModelPackage(fileListSource(files));
    expect(pkg.config.raw._name_or_path).toBeUndefined();
    expect(pkg.name).toBe('my-llama');
    const loose = await loadModelPackage(fileListSource([...checkpointFiles('llama')].map(([name, bytes]) => ({ name, file: new Blob([new Uint8Array(bytes)]) }))));
    expect(loose.name).toBeUndefined();
    expect(loose.source).toBe('the chosen files');
  });
});
