/**
 * The wasm backend started by the studio rather than by tfjs, so that its multi-threaded
 * build runs under a bundler, with a thread count of our choosing, and falls back to the
 * single-threaded SIMD build (saying why) when it cannot start.
 *
 * Why not tfjs's own start-up: it hands Emscripten's threaded build two blob URLs, the pthread
 * worker script (a string it carries) and the "main script" each pthread worker imports,
 * which it makes from `factory.toString()`. Bundled, that function's text refers to names
 * of the bundle around it, so every pthread worker dies with "ReferenceError: e is not
 * defined"; and under the studio's policy (worker-src 'self') a blob: worker may not start at
 * all. The build serves both scripts as files of their own (vite.config.ts, the virtual module
 * `virtual:tfjs-wasm-threads`); here Emscripten gets their URLs.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import plainOrSimdFactory from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js';
import threadedSimdFactory from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';

/** The three wasm binaries, by the names tfjs gives them (as `setWasmPaths` takes them). */
export type WasmBinaryUrls = Record<'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm', string>;

export interface WasmThreadsOptions {
  /** Emscripten's threaded main script, unbundled: what each pthread worker imports. */
  mainScriptUrl: string;
  /** Emscripten's pthread worker script. */
  workerUrl: string;
  /** Threads to run on; default: every logical core, up to the build's pool of 8. */
  count?: number;
}

export type WasmBuild = 'threaded-simd' | 'simd' | 'plain';

/** Which wasm build runs and on how many threads: the page's model facts show it. */
export interface WasmThreading {
  build: WasmBuild;
  /** The threads XNNPACK actually runs on (tfjs's getThreadsCount after start-up). */
  threads: number;
  /** Logical cores the browser reports (navigator.hardwareConcurrency); null outside a browser. */
  cores: number | null;
  /** Why it runs on one thread, in words; null when threaded. */
  singleThreadedBecause: string | null;
  /** The threaded build was tried and did not start: the page shows this as a warning. */
  fellBack: boolean;
  /**
   * How the int8 kernels dequantize: with the studio's SIMD module inside this build's memory,
   * or (without WebAssembly SIMD, or before the backend has started) a scalar loop.
   */
  int8Dequantize?: 'simd' | 'scalar';
}

/** Emscripten starts this many pthread workers up front (tfjs builds with PTHREAD_POOL_SIZE=8). */
const PTHREAD_POOL_SIZE = 8;
/** A backstop only: a pthread worker that fails to load reports an error at once. */
const THREADS_START_TIMEOUT_MS = 30_000;

interface EmscriptenConfig {
  mainScriptUrlOrBlob?: string;
  locateFile(path: string, prefix: string): string;
  onAbort(message: string): void;
  /** Set by the threaded build on the config object (which becomes its Module). */
  PThread?: { terminateAllThreads(): void; unusedWorkers: Worker[]; pthreads: Record<string, Worker> };
}

type WasmModule = BackendWasm['wasm'];
/** Emscripten's cwrap (its types, @types/emscripten, are not among the project's). */
type Cwrap = (name: string, returns: string | null, args: string[]) => (...args: number[]) => number;

let started: WasmThreading | null = null;

/** The facts of the wasm backend this module started, or null if it did not start one. */
export function startedWasmThreading(): WasmThreading | null {
  return started;
}

function logicalCores(): number | null {
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency;
  return typeof cores === 'number' && cores > 0 ? cores : null;
}

/** Every logical core, at least 1, at most the pool Emscripten starts with. */
export function defaultThreadCount(): number {
  return Math.max(1, Math.min(logicalCores() ?? 1, PTHREAD_POOL_SIZE));
}

/** tfjs's bridge over the module's exports, as its own start-up makes it (backend_wasm.ts). */
function withTfjsBridge(module: WasmModule): WasmModule {
  const cwrap = (module as unknown as { cwrap: Cwrap }).cwrap;
  module.tfjs = {
    init: cwrap('init', null, []),
    initWithThreadsCount: cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: cwrap('get_threads_count', 'number', []),
    registerTensor: cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: cwrap('dispose_data', null, ['number']),
    dispose: cwrap('dispose', null, []),
  } as unknown as WasmModule['tfjs'];
  return module;
}

/**
 * tfjs's C++ side caps its thread pool at navigator.hardwareConcurrency / 2 (a guess that half
 * the logical cores are hyper-threads), read once while the module's static constructors run:
 * on a 2-core machine that is one thread, whatever setThreadsCount asks. So while the module
 * starts, the worker's navigator reports twice the threads wanted, and setThreadsCount picks
 * the count itself. Only this worker's navigator is touched, and only until start-up ends.
 */
function reportCoresWhile<T>(cores: number, start: () => Promise<T>): Promise<T> {
  const nav = globalThis.navigator as Navigator;
  const own = Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency');
  Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => cores });
  const restore = () => {
    if (own) Object.defineProperty(nav, 'hardwareConcurrency', own);
    else delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  };
  return start().finally(restore);
}

/**
 * Starts the threaded build and waits until its pthread workers are loaded. A worker that
 * fails to load throws in this worker's global scope (Emscripten rethrows the worker's error
 * event); that is caught here and not let through, or the page would see the engine worker die.
 */
async function startThreaded(binaries: WasmBinaryUrls, scripts: WasmThreadsOptions, threads: number): Promise<WasmModule> {
  let fail: (reason: string) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = (reason) => reject(new Error(reason))));
  const config: EmscriptenConfig = {
    mainScriptUrlOrBlob: scripts.mainScriptUrl,
    locateFile: (file) => (file.endsWith('.worker.js') ? scripts.workerUrl : binaries['tfjs-backend-wasm-threaded-simd.wasm']),
    onAbort: (message) => fail(`it aborted: ${message}`),
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    const inner = (event.error as { message?: unknown } | undefined)?.message;
    fail(`a thread worker failed: ${typeof inner === 'string' && inner ? inner : event.message || 'it could not be loaded'}`);
  };
  const scope = globalThis as unknown as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener };
  scope.addEventListener?.('error', onError as EventListener);
  const timer = setTimeout(() => fail(`its thread workers did not start within ${THREADS_START_TIMEOUT_MS / 1000} s`), THREADS_START_TIMEOUT_MS);
  try {
    const startup = reportCoresWhile(2 * threads, () => {
      // Resolved as a wrapper: tfjs notes that awaiting the module object itself can hang Chrome.
      const module = threadedSimdFactory(config).then((m) => ({ module: m as WasmModule }));
      // The pool's workers exist once the factory returns; Emscripten listens to them only after
      // the wasm has compiled, too late for a script that fails to load.
      for (const worker of config.PThread?.unusedWorkers ?? []) {
        worker.addEventListener('error', () => fail('a thread worker could not be loaded: its script is missing, or served without the cross-origin isolation headers'));
      }
      return module;
    });
    const { module } = await Promise.race([startup, failed]);
    return withTfjsBridge(module);
  } catch (e) {
    const workers = new Set<unknown>([...(config.PThread?.unusedWorkers ?? []), ...Object.values(config.PThread?.pthreads ?? {})]);
    config.PThread?.terminateAllThreads();
    // The other workers of the pool fail too, later: their errors are not the engine's.
    scope.addEventListener?.('error', ((event: ErrorEvent) => {
      if (workers.has((event.error as Event | undefined)?.target)) event.preventDefault();
    }) as EventListener);
    throw e;
  } finally {
    clearTimeout(timer);
    scope.removeEventListener?.('error', onError as EventListener);
  }
}

async function startSingleThreaded(binaryUrl: string): Promise<WasmModule> {
  let abort: (message: string) => void = () => {};
  const aborted = new Promise<never>((_, reject) => (abort = (message) => reject(new Error(message))));
  const startup = plainOrSimdFactory({ locateFile: () => binaryUrl, onAbort: (message) => abort(message) })
    .then((module) => ({ module: module as WasmModule }));
  const { module } = await Promise.race([startup, aborted]);
  return withTfjsBridge(module);
}

/**
 * Registers the studio's own factory for tfjs's 'wasm' backend (in place of tfjs's). It runs
 * the threaded SIMD build where the page is cross-origin isolated, else the SIMD build (or the
 * plain one where the browser lacks SIMD), and records which in `startedWasmThreading()`.
 */
export function registerThreadedWasm(binaries: WasmBinaryUrls, scripts: WasmThreadsOptions): void {
  // Already started (a second init in the same worker): keep it, threads and all. (Not
  // tf.findBackend: it would start the backend registered under that name.)
  if (started) return;
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    const [simd, threadsSupported] = await Promise.all([
      tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as Promise<boolean>,
      tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') as Promise<boolean>,
    ]);
    const cores = logicalCores();
    let notThreaded = simd
      ? 'the page is not cross-origin isolated, so the browser gives WebAssembly no shared memory'
      : 'this browser\'s WebAssembly has no SIMD, which the threaded build needs';
    if (simd && threadsSupported) {
      const threads = scripts.count ?? defaultThreadCount();
      try {
        setThreadsCount(threads);
        const backend = new BackendWasm(await startThreaded(binaries, scripts, threads));
        const actual = getThreadsCount();
        started = {
          build: 'threaded-simd', threads: actual, cores,
          singleThreadedBecause: actual > 1 ? null : threads === 1 ? 'one thread was asked for' : 'the thread pool did not grow past one thread',
          fellBack: false,
        };
        return backend;
      } catch (e) {
        notThreaded = `the multi-threaded build did not start (${(e as Error).message})`;
        started = null;
      }
    }
    const backend = new BackendWasm(await startSingleThreaded(simd ? binaries['tfjs-backend-wasm-simd.wasm'] : binaries['tfjs-backend-wasm.wasm']));
    started = {
      build: simd ? 'simd' : 'plain', threads: 1, cores,
      singleThreadedBecause: notThreaded,
      fellBack: simd && threadsSupported,
    };
    return backend;
  }, 2);
}

/**
 * The facts of a wasm backend that tfjs started itself (Node, or a page that passes no thread
 * scripts and so runs single-threaded).
 */
export async function tfjsWasmThreading(inBrowser: boolean): Promise<WasmThreading> {
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  let threads = 1;
  try {
    threads = getThreadsCount();
  } catch { /* not started by tfjs */ }
  return {
    build: threads > 1 ? 'threaded-simd' : simd ? 'simd' : 'plain',
    threads,
    cores: inBrowser ? logicalCores() : null,
    singleThreadedBecause: threads > 1 ? null
      : inBrowser ? 'this page starts WebAssembly without its thread scripts' : 'tfjs runs its single-threaded wasm build outside a browser',
    fellBack: false,
  };
}
