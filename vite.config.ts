import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const page = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * The built studio's Content-Security-Policy: scripts only from the app's own origin, no
 * inline script and no eval ('wasm-unsafe-eval' lets tfjs compile its WebAssembly and
 * nothing else); the engine worker is a same-origin module; network requests go to the
 * app's origin, or to https URLs the user names (a model URL, the Hugging Face hub); no
 * plugins, no <base>, no form posts. Styles come from the bundled stylesheet (React and
 * uPlot set styles through the CSSOM, which style-src does not govern).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' https:",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The policy as a <meta> tag in the built page (static hosting sends no headers). Build
 * only: the dev server's hot reload injects inline scripts, which the policy forbids.
 */
function contentSecurityPolicyMeta(): Plugin {
  return {
    name: 'studio-csp-meta',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: (html) => ({
        html,
        tags: [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
      }),
    },
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicyMeta()],
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
  // `vite preview` serves the build with the same policy as a header (it covers the worker too).
  preview: { host: '127.0.0.1', port: 4173, strictPort: true, headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } },
});
