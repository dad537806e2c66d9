/**
 * The int8 kernel harness: runs one suite (?suite=kernels|model) in a module worker on the
 * webgpu backend and leaves the result on `window` for e2e/kernels.spec.ts.
 */
import type { KernelMessage, KernelRequest, Suite } from './protocol';

declare global {
  interface Window {
    kernelResult?: KernelMessage;
  }
}

const suite = (new URLSearchParams(location.search).get('suite') ?? 'kernels') as Suite;
const log = document.getElementById('log')!;
const worker = new Worker(new URL('./kernels.worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (e: MessageEvent<KernelMessage>) => {
  if (e.data.kind === 'log') {
    log.textContent += `\n${e.data.text}`;
    console.log(e.data.text);
  } else {
    window.kernelResult = e.data;
  }
};
worker.onerror = (e) => (window.kernelResult = { kind: 'error', text: e.message });
worker.postMessage({ suite } satisfies KernelRequest);
