import path from 'node:path';
import { defineConfig } from '@playwright/test';

/** Debian's Chromium; WebGPU headless needs --enable-unsafe-webgpu (a SwiftShader adapter here). */
export const chromiumArgs = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Several checkouts or sessions can test side by side: each picks its own port and build folder.
const port = Number(process.env.E2E_PORT ?? 4173);
/**
 * The test build: the studio with its test hooks (`--mode test`), and beside it, at
 * /e2e/kernels/, the kernel-check page from its own config. Never dist/, the product.
 */
export const e2eOutDir = path.resolve(import.meta.dirname, process.env.E2E_OUT_DIR ?? 'dist-e2e');

export default defineConfig({
  testDir: 'e2e',
  timeout: 300_000,
  expect: { timeout: 120_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: chromiumArgs,
    },
    viewport: { width: 1280, height: 900 },
    // The studio's service worker would answer requests that specs route or count; the specs
    // of the worker itself (offline.spec.ts) allow it.
    serviceWorkers: 'block',
  },
  webServer: {
    command: [
      `npx vite build --mode test --logLevel warn --outDir ${e2eOutDir} --emptyOutDir`,
      `npx vite build --config vite.kernels.config.ts --logLevel warn --outDir ${path.join(e2eOutDir, 'e2e', 'kernels')}`,
      `npx vite preview --outDir ${e2eOutDir} --port ${port} --strictPort`,
    ].join(' && '),
    url: `http://127.0.0.1:${port}`,
    timeout: 300_000,
    reuseExistingServer: !process.env.CI,
  },
});
