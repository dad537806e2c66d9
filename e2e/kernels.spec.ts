import { expect, test, type Page } from '@playwright/test';
import { BACKEND_CASE_NAMES, EXACT, failures, KERNEL_TOLERANCE, type Check } from '../tests/kernels/cases';
import type { KernelMessage, KernelSuiteResult, ModelSuiteResult, Suite } from './kernels/protocol';
import { publishedSample } from './helpers';

async function runSuite(page: Page, suite: Suite): Promise<KernelSuiteResult | ModelSuiteResult> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => console.log(`[${suite}] ${m.text()}`));
  await page.goto(`/e2e/kernels/index.html?suite=${suite}`);
  const handle = await page.waitForFunction(() => window.kernelResult, undefined, { timeout: 280_000, polling: 500 });
  const message = (await handle.jsonValue()) as KernelMessage;
  expect(errors).toEqual([]);
  if (message.kind !== 'done') throw new Error(message.kind === 'error' ? message.text : 'no result');
  return message.result;
}

test.describe('int8 WGSL kernels on WebGPU, in a module worker', () => {
  test('matmul, input gradient and embedding lookup match tfjs on the dequantized weights', async ({ page }) => {
    // The cases, their tolerances and the facts they check are tests/kernels/cases.ts, which
    // tests/model/kernels.test.ts runs on the cpu backend.
    const result = (await runSuite(page, 'kernels')) as KernelSuiteResult;
    expect(result.backend).toBe('webgpu');
    expect(result.int8Kernels).toBe(true);
    expect(result.cases.map((c) => c.name)).toEqual(BACKEND_CASE_NAMES);
    expect(result.cases.map((c) => c.name)).toContain('N=1 in=172 out=512 +bias');
    // Per matmul: forward, tf.grad, second derivative, the input-gradient kernel, the JS reference.
    for (const c of result.cases) expect(c.checks.length, c.name).toBeGreaterThanOrEqual(c.name.startsWith('N=') ? 5 : 3);
    // No tolerance looser than the kernels' own; dequantizing (lookup, rows) is exact.
    for (const c of result.cases) {
      for (const check of c.checks) {
        const exact = ['lookup', 'rows', 'rows transposed'].includes(check.what);
        expect(check.relative, `${c.name}: ${check.what}`).toBe(exact ? EXACT : KERNEL_TOLERANCE);
      }
    }
    expect(failures(result.cases)).toEqual([]);
  });

  test('the int8 model keeps int8 weights on WebGPU (≤ 30% of float32 bytes) and decodes as float32 does', async ({ page }) => {
    const sample = publishedSample();
    const result = (await runSuite(page, 'model')) as ModelSuiteResult;
    console.log(`weight bytes on webgpu: int8 ${result.weightBytes.int8}, float32 ${result.weightBytes.float32}, ratio ${(result.weightBytes.int8 / result.weightBytes.float32).toFixed(3)}; by dtype ${JSON.stringify(result.backendBytesByDtype)}`);
    console.log(`int8 model, webgpu kernels against dequantized on cpu: logits ${JSON.stringify(result.logits)}, input gradient ${JSON.stringify(result.inputGrad)}`);
    expect(result.backend).toBe('webgpu');
    expect(result.backendBytesByDtype.int32).toBeGreaterThan(0);
    expect(result.weightBytes.int8 / result.weightBytes.float32).toBeLessThanOrEqual(0.3);
    expect(result.int8Ids).toHaveLength(56);
    expect(result.int8Ids).toEqual(result.float32Ids);
    expect(result.int8Text).toBe(result.float32Text);
    if (sample) expect(result.int8Text).toBe(sample);
    const checks: Check[] = [result.logits, result.inputGrad];
    expect(checks.map((c) => c.relative)).toEqual([KERNEL_TOLERANCE, KERNEL_TOLERANCE]);
    expect(failures({ name: 'int8 model, webgpu kernels against dequantized on cpu', checks, facts: [] })).toEqual([]);
  });
});
