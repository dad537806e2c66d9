import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const page = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      // The studio, plus the benchmark page that `npm run bench` drives in Chromium.
      input: {
        main: page('./index.html'),
        bench: page('./bench/browser/index.html'),
        // The int8 WGSL kernel checks that e2e/kernels.spec.ts drives.
        kernels: page('./e2e/kernels/index.html'),
      },
    },
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
});
