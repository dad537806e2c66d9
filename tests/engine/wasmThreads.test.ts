/**
 * The wasm facts the page shows (build, threads, why one thread), as Node gives them, and the
 * default thread count. The threaded build itself starts only in a cross-origin isolated
 * browser: e2e/isolation.spec.ts starts it, and makes it fall back.
 */
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend';
import { defaultThreadCount } from '../../src/engine/wasmThreads';

function withNavigator(value: unknown, run: () => void): void {
  const own = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value, configurable: true, writable: true });
  try {
    run();
  } finally {
    if (own) Object.defineProperty(globalThis, 'navigator', own);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
}

describe('wasm threads', () => {
  it('a wasm choice says which build runs, on how many threads and how int8 is dequantized: in Node, tfjs\'s single-threaded one, with SIMD', async () => {
    const choice = await selectBackend('wasm');
    expect(choice.backend).toBe('wasm');
    expect(choice.wasm).toEqual({
      build: 'simd', threads: 1, cores: null, fellBack: false, int8Dequantize: 'simd',
      singleThreadedBecause: 'tfjs runs its single-threaded wasm build outside a browser',
    });
  });

  it('other backends carry no wasm facts', async () => {
    const choice = await selectBackend('cpu');
    expect(choice.wasm).toBeUndefined();
  });

  it('the default thread count is every logical core, within the build\'s pool of 8', () => {
    withNavigator({ hardwareConcurrency: 2 }, () => expect(defaultThreadCount()).toBe(2));
    withNavigator({ hardwareConcurrency: 16 }, () => expect(defaultThreadCount()).toBe(8));
    withNavigator({ hardwareConcurrency: 0 }, () => expect(defaultThreadCount()).toBe(1));
    withNavigator(undefined, () => expect(defaultThreadCount()).toBe(1));
  });
});
