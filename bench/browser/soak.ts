/**
 * The soak run in the benchmark page (`npm run bench:soak -- --browser`): on the page's main
 * thread rather than in a worker, because only there does Chromium report the JS heap
 * (performance.memory; a dedicated worker has none). The engine code is the same either way.
 */
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { urlSource } from '../../src/model/sources';
import { runSoak, soakDataset } from '../soakCore';
import type { BenchMessage, SoakRequest } from './protocol';

/** usedJSHeapSize after a forced GC (Chromium started with --js-flags=--expose-gc --enable-precise-memory-info). */
function heapBytes(): number | null {
  (globalThis as { gc?: () => void }).gc?.();
  return (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
}

export async function runPageSoak(request: SoakRequest, log: (s: string) => void): Promise<BenchMessage> {
  try {
    const backend = await selectBackend(request.backend, {
      wasmPaths: {
        'tfjs-backend-wasm.wasm': wasmPlainUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
      },
    });
    const session = await ModelSession.open(urlSource(new URL('/models/stories260K/', location.href).href), backend);
    try {
      const dataset = soakDataset(request.csv, request.options.perClass);
      const result = await runSoak(session.model, session.tokenizer, dataset, request.file, request.options, heapBytes, log);
      return { kind: 'soak', result };
    } finally {
      session.dispose();
    }
  } catch (err) {
    return { kind: 'error', text: (err as Error).stack ?? String(err) };
  }
}

