import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { BackendPreference } from './engine/backend';
import { connectEngineEvents } from './state/events';
import { useHistoryStore } from './state/historyStore';
import { useModelStore } from './state/modelStore';
import { App } from './ui/App';
import './ui/styles.css';

const BASE = import.meta.env.BASE_URL;
/** Set before the one reload that puts the page under the service worker: never a second. */
const ISOLATION_RELOAD = 'studio-isolation-reload';
/** How long a first visit waits for the service worker before starting without it. */
const SERVICE_WORKER_WAIT_MS = 20_000;

/**
 * Registers the service worker (public/sw.js), which caches the app for offline use and, on a
 * host that sends no COOP/COEP headers, adds them. On such a host the first visit is not
 * cross-origin isolated (so WebAssembly runs on one thread): it waits for the worker to take
 * control and reloads once, before the engine starts. Resolves true when that reload is under way.
 */
async function underServiceWorker(): Promise<boolean> {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return false;
  const registering = navigator.serviceWorker.register(`${BASE}sw.js`, { scope: BASE }).catch((e: unknown) => {
    console.warn(`The service worker did not register (${(e as Error)?.message ?? e}): no offline use, and threads only where the host isolates the page.`);
    return null;
  });
  if (crossOriginIsolated) {
    sessionStorage.removeItem(ISOLATION_RELOAD);
    return false;
  }
  // Controlled and still not isolated, or reloaded once already: this browser will not be, so go on.
  if (navigator.serviceWorker.controller || sessionStorage.getItem(ISOLATION_RELOAD)) return false;
  const registration = await registering;
  if (!registration) return false;
  const controlled = await new Promise<boolean>((resolve) => {
    navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true), { once: true });
    setTimeout(() => resolve(false), SERVICE_WORKER_WAIT_MS);
    const incoming = registration.installing ?? registration.waiting;
    if (incoming) incoming.addEventListener('statechange', () => incoming.state === 'redundant' && resolve(false));
    // Active but not in control (a reload that bypassed it): a plain reload puts the page under it.
    else if (registration.active) resolve(true);
  });
  if (!controlled) return false;
  sessionStorage.setItem(ISOLATION_RELOAD, '1');
  location.reload();
  return true;
}

function startStudio(): void {
  // ?backend=webgpu|wasm|cpu forces a backend; ?gpuKernels=1 keeps small ops on the GPU (tests).
  const params = new URLSearchParams(location.search);
  const backend = (params.get('backend') ?? 'auto') as BackendPreference;
  const flags = params.get('gpuKernels') === '1' ? { WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 } : undefined;
  // Events first, so the default model's load progress is seen from its first byte.
  connectEngineEvents();
  void useModelStore.getState().start(backend, flags);
  // The runs kept in this browser, and whether a reload interrupted one (offered to resume).
  void useHistoryStore.getState().load();

  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

void underServiceWorker().then((reloading) => {
  if (!reloading) startStudio();
});
