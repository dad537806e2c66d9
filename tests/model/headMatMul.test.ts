/**
 * StudioHeadMatMul: the attention's batched products on wasm, one XNNPACK product per batch
 * item on views into the operands. Each shape and transpose the attention uses (and edges:
 * one batch item, one row, odd sizes) equals tfjs's own matmul on the cpu backend; its
 * gradient equals tfjs's; it leaves no tensor and no heap behind; and the kernel is what
 * runs on wasm (tf.profile names it), not tfjs's scalar loop.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random';
import { selectBackend } from '../../src/engine/backend';
import { HEAD_MATMUL, headMatMul } from '../../src/model/kernels/headMatMul';

const rng = createRng(5);
const values = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1);

/** Runs `f` on cpu and on wasm with the same inputs, returning both results' values. */
async function onBoth(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const inputs = shapes.map(values);
  const run = async (backend: 'cpu' | 'wasm') => {
    await tf.setBackend(backend);
    const xs = inputs.map((v, i) => tf.tensor(v, shapes[i]));
    const out = f(...xs);
    const outs = Array.isArray(out) ? out : [out];
    const data = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose([...xs, ...outs]);
    return data;
  };
  return { cpu: await run('cpu'), wasm: await run('wasm') };
}

function maxRelativeDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('StudioHeadMatMul (the attention products on wasm)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
    await selectBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  // [lead..., M, K] · [lead..., K, N] as the attention has them, with each transpose it uses.
  const cases: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { name: 'scores q·kᵀ, grouped heads', a: [3, 2, 2 * 9, 8], b: [3, 2, 9, 8], ta: false, tb: true },
    { name: 'p·v', a: [3, 2, 18, 9], b: [3, 2, 9, 8], ta: false, tb: false },
    { name: 'dV = pᵀ·dO', a: [3, 2, 18, 9], b: [3, 2, 18, 8], ta: true, tb: false },
    { name: 'dK = dSᵀ·q, one batch item', a: [1, 1, 5, 7], b: [1, 1, 5, 64], ta: true, tb: false },
    { name: 'decode: one query row', a: [2, 4, 1, 64], b: [2, 4, 33, 64], ta: false, tb: true },
    { name: 'both transposed, rank 3, odd sizes', a: [5, 13, 3], b: [5, 11, 13], ta: true, tb: true },
  ];
  for (const c of cases) {
    it(`${c.name}: equals tf.matMul on cpu`, async () => {
      const { cpu, wasm } = await onBoth([c.a, c.b], (a, b) =>
        tf.getBackend() === 'wasm' ? headMatMul(a, b, c.ta, c.tb) : tf.matMul(a, b, c.ta, c.tb));
      expect(maxRelativeDiff(wasm[0], cpu[0])).toBeLessThan(1e-5);
    });
  }

  it('its gradient is tfjs\'s gradient of the same product', async () => {
    const a = [2, 3, 6, 4];
    const b = [2, 3, 5, 4];
    const dy = [2, 3, 6, 5];
    const { cpu, wasm } = await onBoth([a, b, dy], (x, y, d) => {
      const product = tf.getBackend() === 'wasm' ? (p: tf.Tensor, q: tf.Tensor) => headMatMul(p, q, false, true) : (p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, false, true);
      return tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(product(p, q), d)))([x, y]);
    });
    expect(maxRelativeDiff(wasm[0], cpu[0])).toBeLessThan(1e-5);
    expect(maxRelativeDiff(wasm[1], cpu[1])).toBeLessThan(1e-5);
  });

  it('runs as its own kernel on wasm, and leaves no tensor behind', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(values([4, 20, 16]), [4, 20, 16]);
    const b = tf.tensor(values([4, 16, 12]), [4, 16, 12]);
    headMatMul(a, b).dispose(); // registers the kernel
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => headMatMul(a, b));
    expect(profile.kernelNames).toContain(HEAD_MATMUL);
    expect(profile.kernelNames).not.toContain('BatchMatMul');
    (profile.result as tf.Tensor).dispose();
    const bT = tf.tensor(values([4, 12, 16]), [4, 12, 16]);
    for (let i = 0; i < 50; i++) headMatMul(a, bT, false, true).dispose();
    expect(() => headMatMul(a, b, true, true)).toThrow('inner shapes');
    bT.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('a product with no rows or no inner dimension', async () => {
    await tf.setBackend('wasm');
    expect(headMatMul(tf.zeros([2, 0, 3]), tf.ones([2, 3, 4])).shape).toEqual([2, 0, 4]);
    expect(Array.from(await headMatMul(tf.zeros([2, 3, 0]), tf.ones([2, 0, 4])).data())).toEqual(new Array(24).fill(0));
  });
});
