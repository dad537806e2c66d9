/**
 * The studio's service worker: one worker, two jobs.
 *
 * 1. Cross-origin isolation where the host sends no headers (the coi-serviceworker technique):
 *    every same-origin response it hands over carries COOP and COEP, so the page, its engine
 *    worker and WebAssembly's thread workers get SharedArrayBuffer; and the studio's
 *    Content-Security-Policy where the host sent none, so the workers are held to it as well.
 * 2. Offline use: installing caches the build's files (the app shell, the wasm files, the
 *    default model); a visit without a network is served from that cache.
 *
 * The build fills in BUILD (vite.config.ts, serviceWorkerPrecache): the files, relative to the
 * worker's scope (so a sub-path works), and a version that changes with any file's bytes, so
 * that a new build is a new worker with a new cache.
 */
const BUILD = { version: 'unbuilt', files: [], isolation: {}, policy: {} };

const CACHE_PREFIX = 'studio-app-';
const CACHE = `${CACHE_PREFIX}${BUILD.version}`;
/** Statuses whose responses may not have a body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

const inScope = (file) => new URL(file, self.registration.scope).href;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // 'reload': the files as the server has them now, not as the HTTP cache remembers them.
    await cache.addAll(BUILD.files.map((file) => new Request(inScope(file), { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // Only this worker's own caches: the model downloads of the page (studio-models) stay.
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

/** The response with the isolation headers (always) and the policy (unless it has one). */
function withHeaders(response) {
  if (response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(BUILD.isolation)) headers.set(name, value);
  for (const [name, value] of Object.entries(BUILD.policy)) if (!headers.has(name)) headers.set(name, value);
  const body = NULL_BODY.has(response.status) ? null : response.body;
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

async function respond(request) {
  if (request.mode === 'navigate') {
    // The network first, so a new build's page is seen at once; the cached page when offline.
    try {
      return withHeaders(await fetch(request));
    } catch (offline) {
      const page = await caches.match(inScope('index.html'), { cacheName: CACHE });
      if (page) return withHeaders(page);
      throw offline;
    }
  }
  // Built files never change under a name within one version: the cache first.
  const cached = await caches.match(request, { cacheName: CACHE, ignoreMethod: true });
  if (cached) return withHeaders(request.method === 'HEAD' ? new Response(null, cached) : cached);
  return withHeaders(await fetch(request));
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  // Another origin (a model on the Hugging Face hub) is the browser's own business, under CORS.
  if (new URL(request.url).origin !== self.location.origin) return;
  if (request.method !== 'GET' && request.method !== 'HEAD') return;
  event.respondWith(respond(request));
});
