import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

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
 * Cross-origin isolation: the page and its workers get SharedArrayBuffer, which WebAssembly
 * threads need. Sent by the dev server and `vite preview`; on a static host that sends no
 * headers the app's service worker (public/sw.js) adds them.
 */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

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

const require = createRequire(import.meta.url);
const TFJS_WASM_OUT = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'));
const TFJS_WASM_THREADS = 'virtual:tfjs-wasm-threads';
const DEV_THREAD_SCRIPTS = '__tfjs-wasm-threads/';

/** Emscripten's two thread scripts for tfjs-backend-wasm's threaded SIMD build, by file name. */
function tfjsThreadScripts(): Record<'main' | 'worker', { name: string; source: string }> {
  const { wasmWorkerContents } = require(path.join(TFJS_WASM_OUT, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  return {
    // As published: a classic script that defines WasmBackendModuleThreadedSimd.
    main: { name: 'tfjs-backend-wasm-threaded-simd.js', source: readFileSync(path.join(TFJS_WASM_OUT, 'tfjs-backend-wasm-threaded-simd.js'), 'utf8') },
    // tfjs carries it as a one-line template string whose "\n" escapes became newlines: put them back, as tfjs does.
    worker: { name: 'tfjs-backend-wasm-threaded-simd.worker.js', source: wasmWorkerContents.replace(/\n/g, '\\n') },
  };
}

/**
 * `virtual:tfjs-wasm-threads`: the URLs of Emscripten's thread scripts, served as files of
 * their own (src/engine/wasmThreads.ts says why tfjs's blob URLs cannot work in a bundle).
 * Give it to the worker build too: the engine worker imports it.
 */
export function tfjsWasmThreads(): Plugin {
  let serve = false;
  let base = '/';
  return {
    name: 'studio-tfjs-wasm-threads',
    configResolved(config) {
      serve = config.command === 'serve';
      base = config.base;
    },
    resolveId: (id) => (id === TFJS_WASM_THREADS ? `\0${TFJS_WASM_THREADS}` : undefined),
    load(id) {
      if (id !== `\0${TFJS_WASM_THREADS}`) return undefined;
      const scripts = tfjsThreadScripts();
      if (serve) {
        return `export const mainScriptUrl = ${JSON.stringify(`${base}${DEV_THREAD_SCRIPTS}${scripts.main.name}`)};\n`
          + `export const workerUrl = ${JSON.stringify(`${base}${DEV_THREAD_SCRIPTS}${scripts.worker.name}`)};\n`;
      }
      const main = this.emitFile({ type: 'asset', name: scripts.main.name, source: scripts.main.source });
      const worker = this.emitFile({ type: 'asset', name: scripts.worker.name, source: scripts.worker.source });
      return `export const mainScriptUrl = import.meta.ROLLUP_FILE_URL_${main};\nexport const workerUrl = import.meta.ROLLUP_FILE_URL_${worker};\n`;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = req.url?.split('?')[0] ?? '';
        const script = Object.values(tfjsThreadScripts()).find((s) => url === `${base}${DEV_THREAD_SCRIPTS}${s.name}`);
        if (!script) return next();
        res.setHeader('Content-Type', 'text/javascript');
        for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION)) res.setHeader(name, value);
        res.end(script.source);
      });
    },
  };
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const rel = prefix + name;
    return statSync(path.join(dir, name)).isDirectory() ? filesUnder(path.join(dir, name), `${rel}/`) : [rel];
  });
}

/** What the service worker caches for offline use: the app shell, the wasm files and the default model. */
function precached(file: string): boolean {
  if (file === 'sw.js' || file.endsWith('.map') || file.startsWith('.vite/')) return false;
  // Other model packages (the float32 reference, anything `npm run setup` or a script adds) stay online-only.
  if (file.startsWith('models/')) return file.startsWith('models/stories260K/');
  return true;
}

/**
 * Writes the build's file list, a version that changes with any file's bytes, and the headers
 * it must add into the copied public/sw.js (its `const BUILD = …;` line). One service worker
 * for offline use and cross-origin isolation.
 */
function serviceWorkerPrecache(): Plugin {
  let outDir = '';
  return {
    name: 'studio-service-worker-precache',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      const swFile = path.join(outDir, 'sw.js');
      if (!existsSync(swFile)) throw new Error('studio-service-worker-precache: public/sw.js was not copied to the build');
      const files = filesUnder(outDir).filter(precached);
      const hash = createHash('sha256');
      for (const file of files) hash.update(file).update(readFileSync(path.join(outDir, file)));
      const build = {
        version: hash.digest('hex').slice(0, 16),
        files,
        isolation: CROSS_ORIGIN_ISOLATION,
        policy: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY },
      };
      const source = readFileSync(swFile, 'utf8');
      const line = /^const BUILD = .*;$/m;
      if (!line.test(source)) throw new Error('studio-service-worker-precache: public/sw.js has no "const BUILD = …;" line to fill in');
      writeFileSync(swFile, source.replace(line, `const BUILD = ${JSON.stringify(build)};`));
    },
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicyMeta(), tfjsWasmThreads(), serviceWorkerPrecache()],
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    // The studio alone: the benchmark page (vite.bench.config.ts) and the kernel checks
    // (vite.kernels.config.ts) build from their own configs into their own folders.
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: false, headers: CROSS_ORIGIN_ISOLATION },
  // `vite preview` serves the build with the same policy as a header (it covers the worker too).
  preview: {
    host: '127.0.0.1', port: 4173, strictPort: true,
    headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, ...CROSS_ORIGIN_ISOLATION },
  },
});
