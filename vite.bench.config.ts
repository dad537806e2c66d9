/**
 * The benchmark pages (bench/browser/), built on their own into dist-bench: never part of the
 * product. `npm run bench` builds and serves them (bench/browser.ts) with the studio's headers,
 * so they run cross-origin isolated as the studio does; the default model comes from public/.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { CONTENT_SECURITY_POLICY, CROSS_ORIGIN_ISOLATION, tfjsWasmThreads } from './vite.config.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  plugins: [tfjsWasmThreads()],
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  build: {
    target: 'es2022',
    outDir: 'dist-bench',
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: {
        bench: here('./bench/browser/index.html'),
        // One training step at a chosen wasm thread count (bench/threads.ts).
        threads: here('./bench/browser/threads.html'),
      },
    },
  },
  preview: {
    host: '127.0.0.1',
    headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, ...CROSS_ORIGIN_ISOLATION },
  },
});
