/**
 * WebGPU in Node, without a browser: Dawn's Node bindings (npm `webgpu`, a dev dependency)
 * give tfjs-backend-webgpu the `navigator.gpu` it looks for. An optional entry: nothing in
 * the product imports it; the kernel checks, the bench and the GPU kit do, *first*:
 *
 *   import { NODE_WEBGPU_FLAGS, nodeWebGPU } from '../src/engine/nodeWebGPU'; // before ./backend
 *   import { selectBackend } from '../src/engine/backend';
 *   await selectBackend('webgpu', { flags: NODE_WEBGPU_FLAGS });
 *
 * Order matters: tfjs-backend-webgpu, and ./backend.ts after it, register the webgpu backend
 * when they are evaluated, and only where `navigator.gpu` exists then. So this module installs
 * it synchronously as it is evaluated (no top-level await: a sibling import evaluated behind
 * an awaiting module does not wait for it). Node 21+ has a read-only `navigator` getter, hence
 * defineProperty; Node 20 has none.
 *
 * Dawn talks to a Vulkan driver through the loader (`libvulkan.so.1`), which it dlopens when
 * the first adapter is asked for. Both may be missing on a machine without a GPU:
 *
 * - The driver. Where the environment names none (VK_DRIVER_FILES, VK_ICD_FILENAMES,
 *   VK_ADD_DRIVER_FILES), this adds, through VK_ADD_DRIVER_FILES (the loader still searches
 *   its usual folders, so an installed GPU driver is never hidden): NVIDIA's ICD where a
 *   container mounts it outside those folders (/usr/local/nvidia/…), and the SwiftShader
 *   Vulkan driver that Chromium ships (Debian's `chromium` package: /usr/lib/chromium). Dawn
 *   takes a hardware adapter over SwiftShader, which is a fallback adapter (slow, but correct:
 *   the int8 kernel checks pass on it). Mesa's lavapipe (Debian bookworm) is refused by Dawn.
 * - The loader. Where none of the system's library folders (nor LD_LIBRARY_PATH) holds
 *   `libvulkan.so.1`, Chromium's own copy is loaded now, kept loaded, so that Dawn's dlopen
 *   by name finds it (a loaded library answers to its soname). STUDIO_VULKAN_LOADER names
 *   another file.
 *
 * Only asynchronous reads work (`await t.data()`): tfjs-webgpu's synchronous reads go through
 * OffscreenCanvas, which Node lacks, and so does its CPU hand-off of small ops: pass
 * NODE_WEBGPU_FLAGS. Dawn keeps the process alive while its GPU object lives: end a script with
 * `process.exit`.
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export interface NodeWebGPU {
  /** Whether `navigator.gpu` is now Dawn's (an adapter is asked for later: see probeWebGPU). */
  installed: boolean;
  /** Why not, when not installed. */
  reason: string | null;
  /** The Vulkan driver manifests this module added (VK_ADD_DRIVER_FILES); empty when the environment named its own. */
  addedDrivers: string[];
  /** The Vulkan driver variables as Dawn will see them. */
  driverEnvironment: Record<string, string>;
  /** Where libvulkan.so.1 was loaded from, when the system has none; null when the system's is used. */
  vulkanLoader: string | null;
}

/** tfjs flags for WebGPU in Node: every op stays on the GPU (the CPU hand-off reads synchronously). */
export const NODE_WEBGPU_FLAGS: Record<string, number | boolean> = { WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 };

const DRIVER_VARIABLES = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES'];

/** NVIDIA's ICD where containers mount the driver outside the loader's own search folders. */
const NVIDIA_ICDS = [
  '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json',
  '/usr/local/nvidia/icd.d/nvidia_icd.json',
];

/** Folders of a Chromium install: Debian's, Ubuntu's, and the one $CHROMIUM_PATH lives in. */
function chromiumFolders(): string[] {
  const folders = ['/usr/lib/chromium', '/usr/lib/chromium-browser'];
  const binary = process.env.CHROMIUM_PATH;
  if (binary && existsSync(binary)) folders.unshift(path.dirname(realpathSync(binary)));
  return [...new Set(folders)];
}

/** Chromium's SwiftShader Vulkan driver manifest, or null. */
export function swiftShaderDriver(): string | null {
  for (const folder of chromiumFolders()) {
    const manifest = path.join(folder, 'vk_swiftshader_icd.json');
    if (existsSync(manifest)) return manifest;
  }
  return null;
}

/** Whether the dynamic linker would find libvulkan.so.1 by name (system folders, LD_LIBRARY_PATH). */
function systemHasVulkanLoader(): boolean {
  const folders = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    `/usr/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, `/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib',
  ];
  return folders.some((f) => existsSync(path.join(f, 'libvulkan.so.1')));
}

/**
 * Loads a Vulkan loader library and keeps it loaded (RTLD_NODELETE: Node closes what is not
 * an addon), so that Dawn's later dlopen("libvulkan.so.1") finds it by its soname.
 */
function preloadVulkanLoader(file: string): void {
  const RTLD_NODELETE = 0x1000; // glibc's value; not among os.constants.dlopen
  const { RTLD_NOW, RTLD_GLOBAL } = os.constants.dlopen as Record<string, number>;
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, file, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
  } catch (e) {
    // Loaded, it is not a Node addon: "Module did not self-register" is the expected answer.
    if (!/self-register/.test((e as Error).message)) throw e;
  }
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

function loadDawn(): DawnModule {
  const require = createRequire(import.meta.url);
  try {
    return require('webgpu') as DawnModule; // an ES module: require(esm) needs Node ≥ 20.19
  } catch (e) {
    // Older Node: the addon itself, which is what the package's index re-exports.
    const root = path.dirname(require.resolve('webgpu/package.json'));
    const addon = path.join(root, 'dist', `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`, 'dawn.node');
    if (!existsSync(addon)) throw e;
    return require(addon) as DawnModule;
  }
}

function install(): NodeWebGPU {
  const result: NodeWebGPU = { installed: false, reason: null, addedDrivers: [], driverEnvironment: {}, vulkanLoader: null };
  if (typeof process === 'undefined' || !process.versions?.node) return { ...result, reason: 'not Node' };
  const existing = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (existing?.gpu) return { ...result, installed: true }; // a browser, or installed before
  if (process.env.STUDIO_NODE_WEBGPU === '0') return { ...result, reason: 'STUDIO_NODE_WEBGPU=0' };

  if (process.platform === 'linux') {
    if (!DRIVER_VARIABLES.some((v) => process.env[v])) {
      const drivers = [...NVIDIA_ICDS.filter((f) => existsSync(f)), swiftShaderDriver()].filter((f): f is string => f !== null);
      if (drivers.length) {
        process.env.VK_ADD_DRIVER_FILES = drivers.join(':'); // setenv: the loader reads it when Dawn starts it
        result.addedDrivers = drivers;
      }
    }
    for (const v of DRIVER_VARIABLES) if (process.env[v]) result.driverEnvironment[v] = process.env[v]!;
    const loader = process.env.STUDIO_VULKAN_LOADER
      || (systemHasVulkanLoader() ? null : chromiumFolders().map((f) => path.join(f, 'libvulkan.so.1')).find((f) => existsSync(f)) ?? null);
    if (loader) {
      try {
        preloadVulkanLoader(loader);
        result.vulkanLoader = loader;
      } catch (e) {
        return { ...result, reason: `the Vulkan loader ${loader} did not load: ${(e as Error).message}` };
      }
    }
  }

  let dawn: DawnModule;
  try {
    dawn = loadDawn();
  } catch (e) {
    return { ...result, reason: `the webgpu package (Dawn's Node bindings) did not load: ${(e as Error).message}` };
  }
  // GPUBufferUsage, GPUMapMode, GPUShaderStage… which tfjs-backend-webgpu reads as globals.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const gpu = dawn.create([]);
  // Keep what Node's own navigator tells (tfjs reads userAgent), read now: its getters refuse another `this`.
  const copy: Record<string, unknown> = {};
  for (const key of ['hardwareConcurrency', 'language', 'languages', 'platform', 'userAgent']) {
    const value = (existing as Record<string, unknown> | undefined)?.[key];
    if (value !== undefined) copy[key] = value;
  }
  Object.defineProperty(globalThis, 'navigator', { value: { ...copy, gpu }, configurable: true, writable: true });
  return { ...result, installed: true };
}

export const nodeWebGPU: NodeWebGPU = install();
