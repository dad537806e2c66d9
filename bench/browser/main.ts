/**
 * The benchmark page: starts the bench worker with the backend from the query string,
 * records main-thread long tasks while it trains, and leaves the results on `window` for
 * the Playwright driver (bench/browser.ts). With `?soak=1` it instead waits for the driver
 * to call `window.benchSoak(request)` and runs the soak on this page (bench/soak.ts).
 */
import type { BackendPreference } from '../../src/engine/backend';
import { gridFor, type BenchSection } from '../grid';
import type { BenchMessage, SoakRequest } from './protocol';

declare global {
  interface Window {
    benchResult?: BenchMessage;
    benchLongTasks?: number[];
    /** ms from navigation start to the worker's creation: added to its own milestones. */
    benchWorkerStart?: number;
    /** Set on `?soak=1` pages: starts the soak run; its result lands in benchResult. */
    benchSoak?: (request: SoakRequest) => void;
  }
}

const params = new URLSearchParams(location.search);
const logElement = document.getElementById('log')!;
const log = (text: string) => (logElement.textContent += `\n${text}`);

if (params.get('soak') === '1') {
  window.benchSoak = (request) => {
    void import('./soak').then(async ({ runPageSoak }) => (window.benchResult = await runPageSoak(request, log)));
  };
} else {
  const longTasks: number[] = [];
  window.benchLongTasks = longTasks;
  new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
  window.benchWorkerStart = performance.now();
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<BenchMessage>) => {
    if (e.data.kind === 'log') log(e.data.text);
    else window.benchResult = e.data;
  };
  worker.onerror = (e) => (window.benchResult = { kind: 'error', text: e.message });
  worker.postMessage({
    backend: (params.get('backend') ?? 'wasm') as BackendPreference,
    grid: { ...gridFor(params.get('quick') === '1', (params.get('only') as BenchSection | null) ?? null), modelNames: params.get('models')?.split(','),
      stepMemoryMiB: params.get('stepMemory') ? Number(params.get('stepMemory')) : undefined },
    flags: params.get('backend') === 'webgpu' ? { WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 } : undefined,
  });
}
