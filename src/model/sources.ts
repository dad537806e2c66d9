/**
 * Where a model package's files come from: a base URL (the studio's own embedded models,
 * any static server), the Hugging Face hub (a URL source per repo and revision, with the
 * files kept in the browser's Cache API), or files the user picked or dropped. All of them
 * stream with progress and fail with a message that names the file and what went wrong.
 */
import { StudioError } from '../errors';
import type { ModelSource, ProgressCallback } from './package';

export interface UrlSourceOptions {
  /** Abort a request that receives no headers or no bytes for this long (default 30 s). */
  stallTimeoutMs?: number;
  /** Extra attempts after a network failure, stall, early end or 5xx/429 answer (default 2). */
  retries?: number;
  /** Wait before extra attempt n: n × this (default 500 ms). */
  retryDelayMs?: number;
  fetchImpl?: typeof fetch;
  hubId?: string;
  description?: string;
}

function joinUrl(base: string, file: string): string {
  return base.endsWith('/') ? base + file : `${base}/${file}`;
}

/** "30 s", or "0.2 s" for the short timeouts tests use. */
function seconds(ms: number): string {
  return `${ms >= 1000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10} s`;
}

/** Files that are HTML by nature; any other file that arrives as HTML is a server's error or login page. */
const htmlAllowed = (file: string) => /\.html?$/i.test(file);

function isHtmlType(headers: Headers): boolean {
  return (headers.get('content-type') ?? '').toLowerCase().includes('text/html');
}

/** A body that starts like an HTML document, whatever content-type the server claimed. */
function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html');
}

/** A failure worth another attempt: the network, a stall, an early end, a busy server. */
class Transient extends Error {}

function webPage(url: string, file: string): StudioError {
  return new StudioError('network', `${url} returned a web page instead of the file ${file}.`,
    'Check the address: it should point at the folder that holds config.json.');
}

/** The bytes a response declares (absent when compressed: then content-length counts the compressed bytes). */
function declaredLength(response: Response): number | null {
  const lengthHeader = response.headers.get('content-length');
  return lengthHeader && !response.headers.get('content-encoding') ? Number(lengthHeader) : null;
}

/**
 * A response's body as it arrives; a read that brings nothing for `stallMs` aborts the
 * request and fails as a Transient (worth another attempt).
 */
async function* bodyChunks(response: Response, file: string, stallMs: number, controller: AbortController): AsyncGenerator<Uint8Array> {
  if (!response.body) {
    yield new Uint8Array(await response.arrayBuffer());
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Rejected before the abort, so the race reports the stall rather than the abort it causes.
          reject(new Transient(`the download of ${file} stalled: no data for ${seconds(stallMs)}`));
          controller.abort();
        }, stallMs);
      });
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await Promise.race([reader.read(), stalled]);
      } finally {
        clearTimeout(timer);
      }
      if (result.done) return;
      yield result.value;
    }
  } finally {
    // Also ends the request when the reader stops early (an error downstream).
    void reader.cancel().catch(() => {});
  }
}

async function readBody(response: Response, file: string, stallMs: number, controller: AbortController, onProgress?: ProgressCallback): Promise<Uint8Array> {
  const total = declaredLength(response);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for await (const chunk of bodyChunks(response, file, stallMs, controller)) {
    chunks.push(chunk);
    loaded += chunk.byteLength;
    onProgress?.({ file, loaded, total: total ?? (response.body ? null : loaded) });
  }
  if (total !== null && loaded !== total) throw new Transient(`the download of ${file} ended early: ${loaded} of ${total} bytes`);
  return concatBytes(chunks);
}

/** What a server says about one file, without its bytes. */
type Probe = { state: 'present' } | { state: 'absent' } | { state: 'page' } | { state: 'error'; error: StudioError };

/** The hub's X-Error-Code for a missing file, as opposed to a missing repo or revision. */
const HUB_MISSING_FILE = 'EntryNotFound';

function httpError(url: string, file: string, response: Response): StudioError {
  const detail = response.headers.get('x-error-message');
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const hint = response.status === 404 ? `The file ${file} is not at that address.`
    : response.status === 401 || response.status === 403 ? 'The model may be private or gated: the studio downloads only public files.'
      : 'Try again later.';
  return new StudioError('network', `${url} answered ${status}${detail ? ` (${detail})` : ''}.`, hint);
}

/** A URL source plus `probe`, which the hub source needs to tell "absent" from "unreachable". */
function createUrlSource(baseUrl: string, options: UrlSourceOptions): ModelSource & { probe(file: string): Promise<Probe> } {
  const fetchImpl = options.fetchImpl ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const stallMs = options.stallTimeoutMs ?? 30_000;
  const retries = options.retries ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const description = options.description ?? baseUrl;

  /**
   * One file, retried on transient failures. `mode` 'head' and 'status' return once the
   * headers are in (a 'status' GET is cancelled there, for servers that refuse HEAD).
   */
  async function request(
    file: string, mode: 'head' | 'status' | 'body', onProgress?: ProgressCallback, attemptsUsed = 0, earlierError: unknown = undefined,
  ): Promise<{ response: Response; body?: Uint8Array }> {
    const url = joinUrl(baseUrl, file);
    let lastError: unknown = earlierError;
    // Attempts already spent on this file elsewhere (has()'s GET) count toward the retries.
    for (let attempt = Math.min(attemptsUsed, retries); attempt <= retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, attempt * retryDelayMs));
      try {
        const { response, controller } = await connect(url, mode === 'head' ? 'HEAD' : 'GET', 0);
        if (mode !== 'body' || !response.ok) {
          // An unread body would hold the connection open.
          await response.body?.cancel().catch(() => {});
          return { response };
        }
        if (isHtmlType(response.headers) && !htmlAllowed(file)) {
          await response.body?.cancel().catch(() => {});
          throw webPage(url, file);
        }
        const body = await readBody(response, file, stallMs, controller, onProgress);
        if (!htmlAllowed(file) && looksLikeHtml(body)) throw webPage(url, file);
        return { response, body };
      } catch (e) {
        if (e instanceof StudioError) throw e;
        // Anything else is the network: a reset connection mid-body, a stall, an early end.
        lastError = e instanceof Transient ? e : new Transient((e as Error)?.message ?? String(e));
      }
    }
    throw new StudioError('network', `Could not download ${url} after ${retries + 1} attempts: ${(lastError as Error).message}.`,
      'Check the connection and the address, then try again.');
  }

  /**
   * One request's headers (a GET from byte `from` on is a Range request); the network, a
   * stall before the headers, a busy server (5xx but 501, which probe() handles; 429) fail
   * as a Transient, which the caller retries.
   */
  async function connect(url: string, method: 'GET' | 'HEAD', from: number): Promise<{ response: Response; controller: AbortController }> {
    const controller = new AbortController();
    let noHeaders = false;
    const headersTimer = setTimeout(() => {
      noHeaders = true;
      controller.abort();
    }, stallMs);
    let response: Response;
    try {
      response = await fetchImpl(url, { method, signal: controller.signal, ...(from > 0 ? { headers: { Range: `bytes=${from}-` } } : {}) });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      throw new Transient(noHeaders ? `no answer within ${seconds(stallMs)}` : `${(e as Error).message ?? String(e)}${cause ? ` (${cause})` : ''}`);
    } finally {
      clearTimeout(headersTimer);
    }
    if ((response.status >= 500 && response.status !== 501) || response.status === 429) {
      await response.body?.cancel().catch(() => {});
      throw new Transient(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    return { response, controller };
  }

  /**
   * One file as it arrives, for a reader that quantizes as it goes and never holds it whole.
   * A failure midway asks again from where it stopped (a Range request; from a server that
   * ignores Range the part already read is skipped), within the same retries as read().
   */
  async function* stream(file: string, onProgress?: ProgressCallback): AsyncGenerator<Uint8Array> {
    const url = joinUrl(baseUrl, file);
    const held = pending.get(file);
    if (held) {
      pending.delete(file);
      clearTimeout(held.expire);
    }
    let opened = held ? { response: held.response, controller: held.controller } : undefined;
    let lastError: unknown = spent.get(file);
    spent.delete(file);
    // has()'s GET, answered or failed, was the first attempt.
    let attempt = opened || lastError !== undefined ? 1 : 0;
    let loaded = 0;
    let total: number | null = null;
    for (;;) {
      let answer = opened;
      opened = undefined;
      if (!answer) {
        if (attempt > retries) {
          throw new StudioError('network', `Could not download ${url} after ${retries + 1} attempts: ${(lastError as Error).message}.`,
            'Check the connection and the address, then try again.');
        }
        if (attempt > 0) await new Promise((r) => setTimeout(r, attempt * retryDelayMs));
        attempt++;
        try {
          answer = await connect(url, 'GET', loaded);
        } catch (e) {
          lastError = e;
          continue;
        }
      }
      const { response, controller } = answer;
      try {
        if (!response.ok) throw httpError(url, file, response);
        if (isHtmlType(response.headers) && !htmlAllowed(file)) throw webPage(url, file);
        const length = declaredLength(response);
        let skip = 0;
        if (loaded > 0) {
          const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
          if (response.status === 206 && range && Number(range[1]) === loaded) {
            if (total === null && range[2] !== '*') total = Number(range[2]);
          } else if (response.status === 200) {
            skip = loaded;
            total ??= length;
          } else {
            throw new Transient(`the server answered a request for ${file} from byte ${loaded} with HTTP ${response.status}`);
          }
        } else if (length !== null) {
          total = length;
        }
        for await (let chunk of bodyChunks(response, file, stallMs, controller)) {
          if (skip > 0) {
            const dropped = Math.min(skip, chunk.byteLength);
            skip -= dropped;
            chunk = chunk.subarray(dropped);
            if (chunk.byteLength === 0) continue;
          }
          if (loaded === 0 && !htmlAllowed(file) && looksLikeHtml(chunk)) throw webPage(url, file);
          loaded += chunk.byteLength;
          onProgress?.({ file, loaded, total });
          yield chunk;
        }
        if (total !== null && loaded !== total) throw new Transient(`the download of ${file} ended early: ${loaded} of ${total} bytes`);
        return;
      } catch (e) {
        if (e instanceof StudioError) throw e;
        lastError = e instanceof Transient ? e : new Transient((e as Error)?.message ?? String(e));
      } finally {
        controller.abort();
      }
    }
  }

  async function probe(file: string): Promise<Probe> {
    let { response } = await request(file, 'head');
    // Some static servers refuse HEAD; ask with a GET and stop at the headers.
    if (response.status === 405 || response.status === 501) ({ response } = await request(file, 'status'));
    if (response.ok) return isHtmlType(response.headers) && !htmlAllowed(file) ? { state: 'page' } : { state: 'present' };
    const hubCode = response.headers.get('x-error-code');
    if ((response.status === 404 || response.status === 410) && (!hubCode || hubCode === HUB_MISSING_FILE)) return { state: 'absent' };
    return { state: 'error', error: httpError(joinUrl(baseUrl, file), file, response) };
  }

  /**
   * Answers whose headers has() has seen and whose bodies are not read yet: the read() that
   * follows streams them (with its progress) instead of asking again, so a file costs one
   * request, not a HEAD and a GET. A body nobody reads soon is cancelled.
   */
  const pending = new Map<string, { response: Response; controller: AbortController; expire: ReturnType<typeof setTimeout> }>();
  /** A GET has() made that failed in a way worth another attempt: read() counts it as its first. */
  const spent = new Map<string, unknown>();

  /** has() in one GET when the server answers plainly; anything unusual goes the careful way (probe). */
  async function open(file: string): Promise<Probe> {
    const controller = new AbortController();
    const headersTimer = setTimeout(() => controller.abort(), stallMs);
    let response: Response;
    try {
      response = await fetchImpl(joinUrl(baseUrl, file), { method: 'GET', signal: controller.signal });
    } catch (e) {
      spent.set(file, new Transient(controller.signal.aborted ? `no answer within ${seconds(stallMs)}` : (e as Error)?.message ?? String(e)));
      return probe(file);
    } finally {
      clearTimeout(headersTimer);
    }
    if (response.ok && response.body && !(isHtmlType(response.headers) && !htmlAllowed(file))) {
      pending.get(file)?.controller.abort();
      const expire = setTimeout(() => {
        pending.delete(file);
        controller.abort();
      }, Math.max(stallMs, 10_000));
      pending.set(file, { response, controller, expire });
      return { state: 'present' };
    }
    await response.body?.cancel().catch(() => {});
    if (response.status >= 500 || response.status === 429) spent.set(file, new Transient(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`));
    // Missing, refused, busy or a web page: the careful way decides (a HEAD, with retries).
    return probe(file);
  }

  return {
    description,
    hubId: options.hubId,
    probe,
    stream,
    async has(file) {
      const p = await open(file);
      if (p.state === 'error') throw p.error;
      // A web page where config.json should be: the address is a page (about the model, a login), not the folder.
      if (p.state === 'page' && file === 'config.json') throw webPage(joinUrl(baseUrl, file), file);
      // A web page where another file should be is how single-page-app servers answer for a missing file.
      return p.state === 'present';
    },
    async read(file, onProgress) {
      const opened = pending.get(file);
      if (opened) {
        pending.delete(file);
        clearTimeout(opened.expire);
        try {
          const body = await readBody(opened.response, file, stallMs, opened.controller, onProgress);
          if (htmlAllowed(file) || !looksLikeHtml(body)) return body;
          throw webPage(joinUrl(baseUrl, file), file);
        } catch (e) {
          if (e instanceof StudioError) throw e;
          // The body failed midway: that was the first attempt; ask again, with the retries left.
          spent.set(file, e instanceof Transient ? e : new Transient((e as Error)?.message ?? String(e)));
        }
      }
      const earlier = spent.get(file);
      spent.delete(file);
      const { response, body } = await request(file, 'body', onProgress, earlier === undefined ? 0 : 1, earlier);
      if (!response.ok) throw httpError(joinUrl(baseUrl, file), file, response);
      return body!;
    },
  };
}

export function urlSource(baseUrl: string, options: UrlSourceOptions = {}): ModelSource {
  const { probe: _probe, ...source } = createUrlSource(baseUrl, options);
  return source;
}

// ---- the Hugging Face hub ---------------------------------------------------------------

/**
 * Where downloaded files are kept between loads, keyed by their resolved URL. In the
 * browser the Cache API (`cacheStorageFileCache`); in Node tests an in-memory map.
 */
export interface FileCache {
  /** The bytes kept for `url`; null when the file is known not to exist; undefined when unknown. */
  get(url: string): Promise<Uint8Array | null | undefined>;
  /** Keeps bytes, or null to remember that the file does not exist at that revision. */
  put(url: string, bytes: Uint8Array | null): Promise<void>;
  /**
   * Keeps a file as its chunks arrive, without holding it whole; false when storage refused
   * it (a full quota). Fails with the chunks' own error when they fail.
   */
  putStream?(url: string, chunks: AsyncIterable<Uint8Array>): Promise<boolean>;
  /** A kept file as a Blob, to be read in slices (in the browser it stays on disk); as get() otherwise. */
  getBlob?(url: string): Promise<Blob | null | undefined>;
}

export function memoryFileCache(): FileCache & { readonly entries: Map<string, Uint8Array | null> } {
  const entries = new Map<string, Uint8Array | null>();
  return {
    entries,
    async get(url) {
      return entries.get(url);
    },
    async put(url, bytes) {
      entries.set(url, bytes);
    },
    async putStream(url, chunks) {
      const parts: Uint8Array[] = [];
      for await (const chunk of chunks) parts.push(chunk.slice());
      entries.set(url, concatBytes(parts));
      return true;
    },
    async getBlob(url) {
      const bytes = entries.get(url);
      return bytes ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : bytes;
    },
  };
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** An async iterable as a ReadableStream that asks for each chunk only when the reader wants one. */
function readableFrom(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

const ABSENT_HEADER = 'x-studio-absent';

/**
 * The browser's Cache API as a FileCache, or null where there is none (Node, or a page
 * served over plain http from another host). Storage failures (a full quota) only cost
 * the next load a download: they are not errors.
 */
export function cacheStorageFileCache(name = 'studio-models'): FileCache | null {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) return null;
  let opened: Promise<Cache> | null = null;
  const open = () => (opened ??= storage.open(name));
  return {
    async get(url) {
      try {
        const hit = await (await open()).match(url);
        if (!hit) return undefined;
        if (hit.headers.get(ABSENT_HEADER)) return null;
        return new Uint8Array(await hit.arrayBuffer());
      } catch {
        return undefined;
      }
    },
    async put(url, bytes) {
      try {
        const response = bytes === null
          ? new Response(null, { headers: { [ABSENT_HEADER]: '1' } })
          : new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } });
        await (await open()).put(url, response);
      } catch {
        // Quota or private-mode storage: carry on uncached.
      }
    },
    async putStream(url, chunks) {
      // The chunks' own failure must not pass for a storage one: it is rethrown, not answered false.
      let failure: { error: unknown } | null = null;
      const watched = (async function* () {
        try {
          yield* chunks;
        } catch (error) {
          failure = { error };
          throw error;
        }
      })();
      try {
        await (await open()).put(url, new Response(readableFrom(watched), { headers: { 'content-type': 'application/octet-stream' } }));
        return true;
      } catch {
        if (failure) throw (failure as { error: unknown }).error;
        return false;
      }
    },
    async getBlob(url) {
      try {
        const hit = await (await open()).match(url);
        if (!hit) return undefined;
        if (hit.headers.get(ABSENT_HEADER)) return null;
        return await hit.blob();
      } catch {
        return undefined;
      }
    },
  };
}

export interface HubSourceOptions extends Omit<UrlSourceOptions, 'hubId' | 'description'> {
  /** The hub's address (default https://huggingface.co); a mirror or a test server. */
  endpoint?: string;
  /** Where files are kept between loads; none: every load downloads. */
  cache?: FileCache | null;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/**
 * A model repo on the Hugging Face hub at a revision (branch, tag or commit), read from
 * `${endpoint}/${repo}/resolve/${revision}/${file}`. With a cache, a second load of the
 * same repo and revision reads every file, and every known-missing file, from the cache.
 */
export function hubSource(repo: string, revision = 'main', options: HubSourceOptions = {}): ModelSource {
  const id = repo.trim().replace(/^https?:\/\/huggingface\.co\//, '').replace(/\/+$/, '');
  if (!REPO_ID.test(id) || id.includes('..')) {
    throw new StudioError('settings', `"${repo}" is not a Hugging Face repo id.`, 'Write it as owner/name, e.g. HuggingFaceTB/SmolLM-135M.');
  }
  const rev = revision.trim() || 'main';
  const endpoint = (options.endpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
  // Revisions like "refs/pr/1" are one path segment to the hub.
  const base = `${endpoint}/${id}/resolve/${encodeURIComponent(rev)}/`;
  const cache = options.cache ?? null;
  const inner = createUrlSource(base, { ...options, hubId: id, description: `the Hugging Face repo ${id} (revision ${rev})` });
  const url = (file: string) => base + file;
  return {
    description: inner.description,
    hubId: id,
    async has(file) {
      const cached = await cache?.get(url(file));
      if (cached !== undefined) return cached !== null;
      const p = await inner.probe(file);
      if (p.state === 'error') throw p.error;
      if (p.state === 'absent') await cache?.put(url(file), null);
      return p.state === 'present';
    },
    async read(file, onProgress) {
      const cached = await cache?.get(url(file));
      if (cached) {
        onProgress?.({ file, loaded: cached.byteLength, total: cached.byteLength, fromCache: true });
        return cached;
      }
      const bytes = await inner.read(file, onProgress);
      await cache?.put(url(file), bytes);
      return bytes;
    },
    /**
     * With a cache that stores as it receives, a download goes to the cache (never whole in
     * memory) and is then read back from it in slices; a second load reads only the cache.
     */
    async *stream(file, onProgress) {
      if (!cache?.putStream || !cache.getBlob) {
        yield* cacheless(file, onProgress);
        return;
      }
      const kept = await cache.getBlob(url(file));
      if (kept) {
        yield* blobChunks(kept, file, onProgress, true);
        return;
      }
      if (await cache.putStream(url(file), inner.stream!(file, onProgress))) {
        const stored = await cache.getBlob(url(file));
        if (stored) {
          yield* blobChunks(stored, file, onProgress, true);
          return;
        }
      }
      // Storage refused the file: read it from the network once more, as it comes.
      yield* inner.stream!(file, onProgress);
    },
  };

  /** A cache that keeps whole files only (or none): as read() does, in one piece. */
  async function* cacheless(file: string, onProgress?: ProgressCallback): AsyncGenerator<Uint8Array> {
    if (!cache) {
      yield* inner.stream!(file, onProgress);
      return;
    }
    const cached = await cache.get(url(file));
    if (cached) {
      onProgress?.({ file, loaded: cached.byteLength, total: cached.byteLength, fromCache: true });
      yield cached;
      return;
    }
    const bytes = await inner.read(file, onProgress);
    await cache.put(url(file), bytes);
    yield bytes;
  }
}

/** What one streamed read takes from a dropped or cached file (a Blob slice). */
const BLOB_CHUNK_BYTES = 8 * 2 ** 20;

async function* blobChunks(blob: Blob, file: string, onProgress?: ProgressCallback, fromCache = false): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < blob.size; at += BLOB_CHUNK_BYTES) {
    const chunk = new Uint8Array(await blob.slice(at, at + BLOB_CHUNK_BYTES).arrayBuffer());
    onProgress?.({ file, loaded: at + chunk.byteLength, total: blob.size, ...(fromCache ? { fromCache } : {}) });
    yield chunk;
  }
}

/** Files the user picked or dropped, addressed by their name (or path within a dropped folder). */
export function fileListSource(files: { name: string; file: Blob }[], description = 'the chosen files'): ModelSource {
  const byName = new Map<string, Blob>();
  const depth = new Map<string, number>();
  for (const f of files) {
    // A dropped folder gives paths like "my-model/config.json"; address files by their last
    // part, and keep the shallowest when a subfolder (e.g. "original/") repeats a name.
    const parts = f.name.split('/');
    const base = parts.pop()!;
    if ((depth.get(base) ?? Infinity) <= parts.length) continue;
    depth.set(base, parts.length);
    byName.set(base, f.file);
  }
  // Files dropped or picked as a folder share its name as their first path part.
  const folders = new Set(files.map((f) => (f.name.includes('/') ? f.name.split('/')[0] : '')));
  const folder = folders.size === 1 ? [...folders][0] : '';
  return {
    description,
    ...(folder ? { name: folder } : {}),
    async has(file) {
      return byName.has(file);
    },
    async *stream(file, onProgress) {
      const blob = byName.get(file);
      if (!blob) throw new StudioError('model', `${file} is not among ${description}.`);
      yield* blobChunks(blob, file, onProgress);
    },
    async read(file, onProgress) {
      const blob = byName.get(file);
      if (!blob) throw new StudioError('model', `${file} is not among ${description}.`);
      const bytes = new Uint8Array(await blob.arrayBuffer());
      onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    },
  };
}
