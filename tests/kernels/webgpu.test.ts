/**
 * The int8 kernel cases (./cases.ts, run by ./run.ts: the harness e2e/kernels.spec.ts runs in
 * Chromium) on WebGPU in Node, through Dawn (src/engine/nodeWebGPU.ts). Without a GPU the
 * adapter is the SwiftShader Vulkan driver of Debian's chromium package (which CI installs);
 * where no Vulkan driver exists at all the test is skipped and says why.
 */
import { NODE_WEBGPU_FLAGS, nodeWebGPU } from '../../src/engine/nodeWebGPU'; // first: before ./backend evaluates tfjs-backend-webgpu
import { describe, expect, it } from 'vitest';
import { probeWebGPU, selectBackend } from '../../src/engine/backend';
import { BACKEND_CASE_NAMES, failures, KERNEL_TOLERANCE } from './cases';
import { runBackendCases } from './run';

const adapter = nodeWebGPU.installed ? await probeWebGPU() : null;
const noAdapter = !nodeWebGPU.installed
  ? `WebGPU could not be installed in Node: ${nodeWebGPU.reason}`
  : !adapter ? `Dawn found no WebGPU adapter (Vulkan drivers: ${JSON.stringify(nodeWebGPU.driverEnvironment)}; install Debian's chromium for its SwiftShader driver, or a GPU driver)` : null;
// Skipped only where no driver was found to try; a driver we pointed Dawn at (Chromium's
// SwiftShader in CI) that gives no adapter fails the test instead of skipping it quietly.
const skip = noAdapter !== null && nodeWebGPU.addedDrivers.length === 0;
if (skip) console.warn(`tests/kernels/webgpu.test.ts skipped: ${noAdapter}`);

describe('int8 WGSL kernels on WebGPU in Node', () => {
  const what = 'matmul, input gradient, second derivative, embedding lookup and tied head match tfjs on the dequantized weights';
  it.skipIf(skip)(skip ? `${what} (skipped: ${noAdapter})` : `${what}, on ${adapter?.description ?? 'no adapter'}`, async () => {
    expect(noAdapter, `drivers ${nodeWebGPU.addedDrivers.join(', ')} were added`).toBeNull();
    const choice = await selectBackend('webgpu', { flags: NODE_WEBGPU_FLAGS });
    expect(choice.backend).toBe('webgpu');
    const result = await runBackendCases('webgpu');
    expect(result.backend).toBe('webgpu');
    expect(result.int8Kernels).toBe(true); // the weights stayed int8: our kernels ran
    expect(result.cases.map((c) => c.name)).toEqual(BACKEND_CASE_NAMES);
    for (const c of result.cases) {
      expect(c.checks.length, c.name).toBeGreaterThan(0);
      // No tolerance looser than the kernels' own (dequantizing is exact: EXACT).
      for (const check of c.checks) expect(check.relative, `${c.name}: ${check.what}`).toBeLessThanOrEqual(KERNEL_TOLERANCE);
    }
    expect(failures(result.cases)).toEqual([]);
  }, 600_000);
});
