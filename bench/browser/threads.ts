/**
 * The wasm threads benchmark page: `window.benchThreads(request)` starts a fresh worker (a
 * thread count is fixed once wasm starts) and resolves with its measurements.
 */
import type { ThreadsMessage, ThreadsRequest } from './threadsProtocol';

declare global {
  interface Window {
    benchThreads?: (request: ThreadsRequest) => Promise<ThreadsMessage>;
  }
}

const logElement = document.getElementById('log')!;

window.benchThreads = (request) => new Promise((resolve) => {
  const worker = new Worker(new URL('./threads.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<ThreadsMessage>) => {
    if (e.data.kind === 'log') {
      logElement.textContent += `\n${e.data.text}`;
      return;
    }
    worker.terminate();
    resolve(e.data);
  };
  worker.onerror = (e) => {
    worker.terminate();
    resolve({ kind: 'error', text: e.message || 'the worker failed' });
  };
  worker.postMessage(request);
});
