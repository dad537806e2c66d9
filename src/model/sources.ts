/**
 * Where a model package's files come from: a base URL (the studio's own embedded models,
 * any static server) or files the user picked or dropped. The hub source builds on the
 * URL source. All of them stream with progress and fail with a message that names the
 * file and what went wrong.
 */
import { StudioError } from '../errors';
import type { ModelSource, ProgressCallback } from './package';

export interface UrlSourceOptions {
  /** Abort a request that receives no bytes for this long (default 30 s). */
  stallTimeoutMs?: number;
  /** Extra attempts after a network failure or stall (default 2). */
  retries?: number;
  fetchImpl?: typeof fetch;
  hubId?: string;
  description?: string;
}

function joinUrl(base: string, file: string): string {
  return base.endsWith('/') ? base + file : `${base}/${file}`;
}

/** Files that are HTML by nature; any other file served as text/html is a server's error page. */
const htmlAllowed = (file: string) => /\.html?$/i.test(file);

async function readBody(response: Response, file: string, stallMs: number, controller: AbortController, onProgress?: ProgressCallback): Promise<Uint8Array> {
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader && !response.headers.get('content-encoding') ? Number(lengthHeader) : null;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength });
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new StudioError('network', `The download of ${file} stalled: no data for ${Math.round(stallMs / 1000)} s.`));
      }, stallMs);
    });
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await Promise.race([reader.read(), stalled]);
    } finally {
      clearTimeout(timer);
    }
    if (result.done) break;
    chunks.push(result.value);
    loaded += result.value.byteLength;
    onProgress?.({ file, loaded, total });
  }
  if (total !== null && loaded !== total) {
    throw new StudioError('network', `The download of ${file} ended early: ${loaded} of ${total} bytes.`);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export function urlSource(baseUrl: string, options: UrlSourceOptions = {}): ModelSource {
  const fetchImpl = options.fetchImpl ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const stallMs = options.stallTimeoutMs ?? 30_000;
  const retries = options.retries ?? 2;
  const description = options.description ?? baseUrl;

  async function request(file: string, method: 'GET' | 'HEAD', onProgress?: ProgressCallback): Promise<{ response: Response; body?: Uint8Array }> {
    const url = joinUrl(baseUrl, file);
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      const controller = new AbortController();
      const headersTimer = setTimeout(() => controller.abort(), stallMs);
      try {
        const response = await fetchImpl(url, { method, signal: controller.signal });
        clearTimeout(headersTimer);
        if (method === 'HEAD' || !response.ok) return { response };
        const type = response.headers.get('content-type') ?? '';
        if (type.includes('text/html') && !htmlAllowed(file)) {
          throw new StudioError('network', `${url} returned a web page instead of the file ${file}.`,
            'Check the address: it should point at the folder that holds config.json.');
        }
        return { response, body: await readBody(response, file, stallMs, controller, onProgress) };
      } catch (e) {
        clearTimeout(headersTimer);
        if (e instanceof StudioError && !e.message.includes('stalled') && !e.message.includes('ended early')) throw e;
        lastError = e;
      }
    }
    const reason = lastError instanceof StudioError ? lastError.message
      : (lastError as Error)?.name === 'AbortError' ? `no answer within ${Math.round(stallMs / 1000)} s` : String((lastError as Error)?.message ?? lastError);
    throw new StudioError('network', `Could not download ${url} after ${retries + 1} attempts: ${reason}`,
      'Check the connection and the address, then try again.');
  }

  return {
    description,
    hubId: options.hubId,
    async has(file) {
      const { response } = await request(file, 'HEAD');
      if (response.status === 405) return (await request(file, 'GET')).response.ok;
      const type = response.headers.get('content-type') ?? '';
      return response.ok && !(type.includes('text/html') && !htmlAllowed(file));
    },
    async read(file, onProgress) {
      const { response, body } = await request(file, 'GET', onProgress);
      if (!response.ok) {
        throw new StudioError('network', `${joinUrl(baseUrl, file)} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`,
          response.status === 404 ? `The file ${file} is not at that address.` : response.status === 401 || response.status === 403
            ? 'The model may be private or gated: the studio downloads only public files.' : 'Try again later.');
      }
      return body!;
    },
  };
}

/** Files the user picked or dropped, addressed by their name (or path within a dropped folder). */
export function fileListSource(files: { name: string; file: Blob }[], description = 'the chosen files'): ModelSource {
  const byName = new Map<string, Blob>();
  for (const f of files) {
    // A dropped folder gives paths like "my-model/config.json"; address files by their last part.
    const base = f.name.split('/').pop()!;
    byName.set(base, f.file);
  }
  return {
    description,
    async has(file) {
      return byName.has(file);
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
