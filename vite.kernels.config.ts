/**
 * The int8 kernel-check page (e2e/kernels/, driven by e2e/kernels.spec.ts), built on its own:
 * never part of the product. It lives at /e2e/kernels/ beside the studio's test build, which
 * serves the models it loads (/models/…): playwright.config.ts builds it into that folder.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./e2e/kernels'),
  base: '/e2e/kernels/',
  publicDir: false,
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: here('./dist-kernel-checks'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
  },
});
