/**
 * Where a browser build serves tfjs's wasm binaries and Emscripten's thread scripts: what
 * the engine's backend selection needs to run wasm multi-threaded (src/engine/wasmThreads.ts).
 */
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { mainScriptUrl, workerUrl } from 'virtual:tfjs-wasm-threads';
import type { BackendOptions } from '../engine/backend';

/** `threads`: how many to run on (default: every logical core, up to 8). */
export function wasmBackendOptions(threads?: number): Pick<BackendOptions, 'wasmPaths' | 'wasmThreads'> {
  return {
    wasmPaths: {
      'tfjs-backend-wasm.wasm': wasmPlainUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
    },
    wasmThreads: { mainScriptUrl, workerUrl, count: threads },
  };
}
