import { expect, test, type Page } from '@playwright/test';
import type { Diff, KernelMessage, KernelSuiteResult, ModelSuiteResult, Suite } from './kernels/protocol';
import { publishedSample } from './helpers';

/**
 * float32 sums of ~200 products of values ~10 agree to ~3e-5 between orders of summation
 * (SwiftShader against cpu, e2e notes): 1e-4 of the largest reference value leaves room.
 */
function expectClose(d: Diff, what: string): void {
  expect(d.maxDiff, `${what}: max |diff| ${d.maxDiff} with values up to ${d.maxRef}`).toBeLessThanOrEqual(1e-4 * Math.max(1, d.maxRef));
}

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
    const result = (await runSuite(page, 'kernels')) as KernelSuiteResult;
    expect(result.backend).toBe('webgpu');
    expect(result.matmuls.map((m) => m.shape)).toContainEqual([1, 172, 512]);
    for (const m of result.matmuls) {
      const name = `N=${m.shape[0]} in=${m.shape[1]} out=${m.shape[2]}${m.bias ? ' +bias' : ''}`;
      expect(m.dtypes.slice(0, 2), name).toEqual(['int32', 'float32']);
      expectClose(m.forward, `${name} forward`);
      expectClose(m.inputGrad, `${name} input gradient`);
      expectClose(m.grad, `${name} tf.grad through QuantLinear`);
      expectClose(m.secondOrder, `${name} second derivative through QuantLinear`);
      expectClose(m.reference, `${name} against the JS reference`);
    }
    for (const e of result.embeddings) {
      const name = `V=${e.shape[0]} d=${e.shape[1]} ids [${e.shape[2]}, ${e.shape[3]}]`;
      // Dequantizing is one float32 multiply on either side: exact.
      expect(e.lookup.maxDiff, `${name} lookup`).toBe(0);
      expect(e.table.maxDiff, `${name} table`).toBe(0);
      expectClose(e.head, `${name} tied head`);
    }
    expect(result.leakedTensors).toBe(0);
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
    expectClose(result.logits, 'int8 model logits, webgpu kernels against dequantized on cpu');
    expectClose(result.inputGrad, 'int8 model input gradient, webgpu kernels against dequantized on cpu');
  });
});
