/**
 * The benchmark page: starts the bench worker with the backend from the query string,
 * records main-thread long tasks while it trains, and leaves the results on `window` for
 * the Playwright driver (bench/browser.ts).
 */
import type { BackendPreference } from '../../src/engine/backend';
import { FULL_GRID, QUICK_GRID } from '../grid';
import type { BenchMessage } from './protocol';

declare global {
  interface Window {
    benchResult?: BenchMessage;
    benchLongTasks?: number[];
    /** ms from navigation start to the worker's creation: added to its own milestones. */
    benchWorkerStart?: number;
  }
}

const params = new URLSearchParams(location.search);
const longTasks: number[] = [];
window.benchLongTasks = longTasks;
new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
const logElement = document.getElementById('log')!;
window.benchWorkerStart = performance.now();
const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (e: MessageEvent<BenchMessage>) => {
  if (e.data.kind === 'log') logElement.textContent += `\n${e.data.text}`;
  else window.benchResult = e.data;
};
worker.onerror = (e) => (window.benchResult = { kind: 'error', text: e.message });
worker.postMessage({
  backend: (params.get('backend') ?? 'wasm') as BackendPreference,
  grid: params.get('quick') === '1' ? QUICK_GRID : FULL_GRID,
  flags: params.get('backend') === 'webgpu' ? { WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 } : undefined,
});
