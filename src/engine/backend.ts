/**
 * Picks the tfjs backend the engine runs on, and says why.
 *
 * WebGPU on a real GPU is by far the fastest; WebGPU on a software adapter (SwiftShader,
 * `isFallbackAdapter`) is the slowest of all, slower than plain wasm SIMD, so "auto"
 * takes wasm there and tells the user. A backend the user forces is used if it starts.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { StudioError } from '../errors';
import { simdDequantizer } from '../model/kernels/wasmSimdDequantize';
import { registerThreadedWasm, startedWasmThreading, tfjsWasmThreading, type WasmBinaryUrls, type WasmThreading, type WasmThreadsOptions } from './wasmThreads';

export type { WasmThreading } from './wasmThreads';

export type BackendName = 'webgpu' | 'wasm' | 'cpu' | 'webgl';
export type BackendPreference = 'auto' | BackendName;

export interface AdapterFacts {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface BackendChoice {
  backend: BackendName;
  /** One sentence a user can read: why this backend. */
  reason: string;
  adapter: AdapterFacts | null;
  /** On wasm: which build runs, on how many threads, and how int8 weights are dequantized. */
  wasm?: WasmThreading;
}

export interface BackendOptions {
  /** Where the wasm binaries are served (browser builds); Node finds them itself. */
  wasmPaths?: Record<string, string> | string;
  /**
   * Emscripten's thread scripts as the build serves them (with `wasmPaths` as a map): wasm then
   * runs multi-threaded where the page is cross-origin isolated. A browser page without them runs
   * wasm on one thread, since tfjs's own threaded start-up does not survive bundling.
   */
  wasmThreads?: WasmThreadsOptions;
  /** Extra tfjs flags, e.g. WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 in tests that must run GPU kernels. */
  flags?: Record<string, number | boolean>;
}

// ---- our own WebGPU backend factory ----------------------------------------------------
// tfjs-backend-webgpu registers a factory when imported, but keeps the GPUDevice to itself.
// We register the same factory ourselves so the engine can watch `device.lost`, rebuild the
// backend on a fresh device after a loss, and (in tests) destroy the device on purpose.

let device: GPUDevice | null = null;
const lostListeners = new Set<(reason: string) => void>();

async function createWebGPUBackend(): Promise<WebGPUBackend> {
  const gpu = navigator.gpu;
  const adapter = await gpu.requestAdapter({ powerPreference: tf.env().get('WEBGPU_USE_LOW_POWER_GPU') ? 'low-power' : 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter');
  const limits = adapter.limits;
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  const created = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  device = created;
  void created.lost.then((info) => {
    if (device !== created) return;
    device = null;
    const reason = info.message || info.reason || 'unknown reason';
    for (const l of lostListeners) l(reason);
  });
  return new WebGPUBackend(created, adapter.info);
}

function registerWebGPU(): void {
  if (!(globalThis.navigator as Navigator | undefined)?.gpu) return;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', createWebGPUBackend, 3);
}
registerWebGPU();

/** Called once per lost device with the browser's reason. Returns an unsubscribe function. */
export function onWebGPUDeviceLost(listener: (reason: string) => void): () => void {
  lostListeners.add(listener);
  return () => lostListeners.delete(listener);
}

/** The live WebGPU device, for tests that simulate a loss with `device.destroy()`. */
export function currentWebGPUDevice(): GPUDevice | null {
  return device;
}

/**
 * After a lost device: drops the dead backend and starts WebGPU again on a fresh device,
 * or wasm when that fails. Every tensor of the old backend is gone; callers rebuild theirs.
 */
export async function restartAfterDeviceLoss(): Promise<BackendChoice> {
  tf.removeBackend('webgpu');
  registerWebGPU();
  const adapter = await probeWebGPU();
  if (adapter && (await start('webgpu'))) {
    return { backend: 'webgpu', reason: `WebGPU restarted on a fresh device (${adapter.description}) after the previous one was lost.`, adapter };
  }
  if (await start('wasm')) return withWasmFacts({ backend: 'wasm', reason: 'The WebGPU device was lost and could not be restarted, so training continues on wasm.', adapter });
  throw new StudioError('training', 'The GPU device was lost and no other backend could start.', 'Reload the page to resume from the last checkpoint.');
}

/** Describes the WebGPU adapter the browser would give tfjs, or null without WebGPU. */
export async function probeWebGPU(): Promise<AdapterFacts | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return null;
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
  if (!adapter) return null;
  // Chrome moved isFallbackAdapter from the adapter to adapter.info; read both.
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  const legacyFallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    description: info?.description || [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'unknown adapter',
    isFallbackAdapter: Boolean(info?.isFallbackAdapter ?? legacyFallback ?? false),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

async function start(name: BackendName): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

const inBrowser = () => typeof (globalThis as { importScripts?: unknown }).importScripts === 'function'
  || typeof (globalThis as { document?: unknown }).document !== 'undefined';

/** Adds the wasm build and thread count to a choice that landed on wasm. */
async function withWasmFacts(choice: BackendChoice): Promise<BackendChoice> {
  if (choice.backend !== 'wasm') return choice;
  const threading = startedWasmThreading() ?? (await tfjsWasmThreading(inBrowser()));
  const int8Dequantize = tf.getBackend() === 'wasm' && simdDequantizer(tf.backend() as BackendWasm) ? 'simd' : 'scalar';
  return { ...choice, wasm: { ...threading, int8Dequantize } };
}

function configureWasm(options: BackendOptions): void {
  const binaries = options.wasmPaths;
  if (options.wasmThreads && binaries && typeof binaries === 'object') {
    registerThreadedWasm(binaries as WasmBinaryUrls, options.wasmThreads);
    return;
  }
  if (binaries) setWasmPaths(binaries as Record<string, string>);
  // Without the thread scripts, tfjs would pick its threaded build on an isolated page and
  // hand its pthread workers a bundled function they cannot run: keep it single-threaded.
  if (inBrowser()) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
}

export async function selectBackend(preference: BackendPreference, options: BackendOptions = {}): Promise<BackendChoice> {
  configureWasm(options);
  // PROD silences tfjs's console advice to install tfjs-node, which cannot install here.
  if (typeof process !== 'undefined' && process.versions?.node) tf.env().set('PROD', true);
  for (const [flag, value] of Object.entries(options.flags ?? {})) tf.env().set(flag, value);
  const adapter = await probeWebGPU();

  if (preference !== 'auto') {
    if (preference === 'webgpu' && !adapter) {
      throw new StudioError('settings', 'WebGPU was requested but this browser offers no WebGPU adapter.',
        'Use a browser with WebGPU enabled, or choose wasm.');
    }
    if (!(await start(preference))) {
      throw new StudioError('settings', `The ${preference} backend could not start here.`, 'Choose another backend, or auto.');
    }
    return withWasmFacts({ backend: preference, reason: `${preference} was chosen by the user.`, adapter });
  }

  if (adapter && !adapter.isFallbackAdapter && (await start('webgpu'))) {
    return { backend: 'webgpu', reason: `WebGPU runs on a hardware adapter (${adapter.description}).`, adapter };
  }
  const why = adapter
    ? `WebGPU is available only as a software fallback adapter (${adapter.description}), which is slower than wasm on the CPU`
    : inBrowser() ? 'this browser offers no WebGPU adapter' : 'WebGPU is not available outside a browser';
  if (await start('wasm')) return withWasmFacts({ backend: 'wasm', reason: `wasm (WebAssembly SIMD on the CPU) was chosen because ${why}.`, adapter });
  if (await start('cpu')) return { backend: 'cpu', reason: `the plain JavaScript cpu backend was chosen because ${why} and wasm did not start.`, adapter };
  throw new StudioError('settings', 'No tfjs backend could start in this environment.');
}
