/**
 * The wasm threads benchmark page: one worker per way (a thread count is fixed once wasm
 * starts), all open at once, so that the driver (bench/threads.ts) can interleave their steps
 * and a busy moment on a shared machine falls on every way alike.
 */
import type { ThreadsMessage, ThreadsRequest, WayRequest } from './threadsProtocol';

declare global {
  interface Window {
    threadsOpen?: (way: WayRequest, synthetic: boolean) => Promise<ThreadsMessage>;
    threadsMeasure?: (way: number, request: Extract<ThreadsRequest, { kind: 'measure' }>) => Promise<ThreadsMessage>;
  }
}

const logElement = document.getElementById('log')!;
const workers: Worker[] = [];

function ask(worker: Worker, request: ThreadsRequest): Promise<ThreadsMessage> {
  return new Promise((resolve) => {
    worker.onmessage = (e: MessageEvent<ThreadsMessage>) => {
      if (e.data.kind === 'log') logElement.textContent += `\n${e.data.text}`;
      else resolve(e.data);
    };
    worker.onerror = (e) => resolve({ kind: 'error', text: e.message || 'the worker failed' });
    worker.postMessage(request);
  });
}

window.threadsOpen = (way, synthetic) => {
  const worker = new Worker(new URL('./threads.worker.ts', import.meta.url), { type: 'module' });
  workers.push(worker);
  return ask(worker, { kind: 'open', synthetic, ...way });
};
window.threadsMeasure = (way, request) => ask(workers[way], request);
