/**
 * Checks the int8 WGSL kernels where they run: in a module worker on the webgpu backend,
 * with every op kept on the GPU (WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD 0). Only async reads
 * (`await t.data()`): a synchronous readback in a worker crashes SwiftShader's GPU process.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { int8MatMul, int8MatMulInputGrad } from '../../src/model/kernels';
import { int8MatMulReference } from '../../tests/kernels/reference';
import { DenseLinear } from '../../src/model/layers';
import { loadModelPackage, type ModelPackage } from '../../src/model/package';
import { dequantizeRows, packInt8Rows, quantizeRows, type QuantizedMatrix } from '../../src/model/quantize';
import { QuantEmbedding, QuantLinear } from '../../src/model/quantLinear';
import { urlSource } from '../../src/model/sources';
import type { CausalLM } from '../../src/model/types';
import type { Diff, EmbeddingCheck, KernelMessage, KernelRequest, KernelSuiteResult, MatMulCheck, ModelSuiteResult } from './protocol';

const post = (m: KernelMessage) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);
const log = (text: string) => post({ kind: 'log', text });

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const uniform = (n: number, next: () => number) => Float32Array.from({ length: n }, () => next() * 2 - 1);

/** Weights [rows, cols] quantized with distinct per-row scales, sized so outputs are ~5-15. */
function randomQuantized(rows: number, cols: number, next: () => number): QuantizedMatrix {
  const q = quantizeRows(uniform(rows * cols, next), rows, cols);
  const base = 5 / (42.3 * Math.sqrt(cols));
  q.scales.forEach((_, i) => (q.scales[i] = Math.fround(base * (0.5 + next()))));
  return q;
}

async function diff(actual: tf.Tensor | Float32Array, expected: tf.Tensor | Float32Array): Promise<Diff> {
  const a = actual instanceof tf.Tensor ? await actual.data() : actual;
  const e = expected instanceof tf.Tensor ? await expected.data() : expected;
  if (a.length !== e.length) throw new Error(`size ${a.length} against ${e.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(e[i]));
  }
  return { maxDiff, maxRef };
}

// [N, in, out]: decode rows (the skinny tile), the model's shapes, and sizes that are not
// multiples of the tiles (32, 64) or of 4.
const MATMUL_SHAPES: [number, number, number][] = [
  [1, 172, 512],
  [1, 64, 172],
  [3, 7, 5],
  [37, 171, 45],
  [33, 13, 70],
  [64, 32, 96],
];
// [V, d, B, T]
const EMBEDDING_SHAPES: [number, number, number, number][] = [
  [512, 64, 2, 5],
  [50, 13, 1, 7],
  [7, 5, 3, 1],
];

async function kernelSuite(): Promise<KernelSuiteResult> {
  const startTensors = tf.memory().numTensors;
  const matmuls: MatMulCheck[] = [];
  for (const [index, [n, k, m]] of MATMUL_SHAPES.entries()) {
    const next = rng(100 + index);
    const q = randomQuantized(m, k, next);
    const xData = uniform(n * k, next);
    const biasData = uniform(m, next);
    const hasBias = index % 2 === 0;
    const x = tf.tensor2d(xData, [n, k]);
    const dy = tf.tensor2d(uniform(n * m, next), [n, m]);
    const c = tf.tensor2d(uniform(n * m, next), [n, m]);
    const bias = hasBias ? tf.tensor1d(biasData) : undefined;
    const weight = tf.tensor2d(dequantizeRows(q), [m, k]); // [out, in] float32
    const quant = QuantLinear.fromQuantized(q, bias);
    const dense = new DenseLinear(weight, bias);
    const [words, scales] = quant.tensors() as [tf.Tensor2D, tf.Tensor1D];

    const y = quant.apply(x);
    const yRef = tf.tidy(() => (bias ? tf.add(tf.matMul(x, weight, false, true), bias) : tf.matMul(x, weight, false, true)));
    const dx = int8MatMulInputGrad(dy, words, scales, k);
    const dxRef = tf.matMul(dy, weight);
    const loss = (layer: { apply(v: tf.Tensor2D): tf.Tensor2D }) => (v: tf.Tensor) => tf.sum(tf.mul(layer.apply(v as tf.Tensor2D), c));
    const g = tf.grad(loss(quant))(x);
    const gRef = tf.grad(loss(dense))(x);
    // d/dx Σ c ⊙ ∇ₓ Σ (xWᵀ)² = 2·(c·Wᵀ)·W: the input-gradient kernel differentiated in turn.
    const cx = tf.tensor2d(uniform(n * k, next), [n, k]);
    const secondOrder = (layer: { apply(v: tf.Tensor2D): tf.Tensor2D }) => tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(tf.grad((u: tf.Tensor) => tf.sum(tf.square(layer.apply(u as tf.Tensor2D))))(v), cx)))(x);
    const h = secondOrder(quant);
    const hRef = secondOrder(dense);
    const packed = packInt8Rows(q.values, m, k);
    const jsRef = int8MatMulReference(xData, n, k, { ...packed, scales: q.scales, rows: m }, hasBias ? biasData : undefined);
    // The kernel without its fused bias, as the gradient's gradient uses it.
    const unfused = tf.tidy(() => (bias ? tf.add(int8MatMul(x, words, scales), bias) : int8MatMul(x, words, scales)));
    matmuls.push({
      shape: [n, k, m],
      bias: hasBias,
      dtypes: quant.tensors().map((t) => t.dtype),
      forward: await diff(y, yRef),
      inputGrad: await diff(dx, dxRef),
      grad: await diff(g, gRef),
      secondOrder: await diff(h, hRef),
      reference: await diff(unfused, jsRef),
    });
    log(`matmul N=${n} in=${k} out=${m}: ${JSON.stringify(matmuls.at(-1))}`);
    tf.dispose([x, dy, c, cx, weight, y, yRef, dx, dxRef, g, gRef, h, hRef, unfused, ...quant.tensors()]);
  }

  const embeddings: EmbeddingCheck[] = [];
  for (const [index, [v, d, b, t]] of EMBEDDING_SHAPES.entries()) {
    const next = rng(200 + index);
    const q = randomQuantized(v, d, next);
    const idData = Int32Array.from({ length: b * t }, (_, i) => (i === 0 ? 0 : i === 1 ? v - 1 : Math.floor(next() * v)));
    const ids = tf.tensor2d(idData, [b, t], 'int32');
    const table = tf.tensor2d(dequantizeRows(q), [v, d]);
    const h = tf.tensor2d(uniform(3 * d, next), [3, d]);
    const quant = QuantEmbedding.fromQuantized(q);
    const looked = quant.lookup(ids);
    const lookedRef = tf.gather(table, ids);
    const logits = quant.asLinear().apply(h);
    const logitsRef = tf.matMul(h, table, false, true);
    embeddings.push({
      shape: [v, d, b, t],
      lookup: await diff(looked, lookedRef),
      table: await diff(quant.table(), table),
      head: await diff(logits, logitsRef),
    });
    log(`embedding V=${v} d=${d} [${b}, ${t}]: ${JSON.stringify(embeddings.at(-1))}`);
    tf.dispose([ids, table, h, looked, lookedRef, logits, logitsRef, ...quant.tensors()]);
  }
  return { suite: 'kernels', backend: tf.getBackend(), matmuls, embeddings, leakedTensors: tf.memory().numTensors - startTensors };
}

/** Logits of every position, and the gradient of Σ logits·c with respect to the input embeddings. */
async function probe(model: CausalLM, ids: number[], cData: Float32Array) {
  const embeds = tf.tidy(() => model.embed(tf.tensor2d(ids, [1, ids.length], 'int32'))); // [1, T, d]
  const c = tf.tensor3d(cData, [1, ids.length, model.config.vocabSize]);
  const logitsOf = (e: tf.Tensor3D) => model.logits(model.forward({ inputsEmbeds: e }).hidden); // [1, T, V]
  const logits = tf.tidy(() => logitsOf(embeds));
  const grad = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(logitsOf(e as tf.Tensor3D), c)))(embeds); // [1, T, d]
  const out = { logits: (await logits.data()) as Float32Array, grad: (await grad.data()) as Float32Array };
  tf.dispose([embeds, c, logits, grad]);
  return out;
}

async function modelSuite(backend: BackendChoice): Promise<ModelSuiteResult> {
  const url = (id: string) => new URL(`/models/${id}/`, location.href).href;
  const packages: Record<'int8' | 'float32', ModelPackage> = {
    int8: await loadModelPackage(urlSource(url('stories260K'))),
    float32: await loadModelPackage(urlSource(url('stories260K-f32'))),
  };
  const prompt = 'Once upon a time';
  const open = (pkg: ModelPackage) => {
    const before = tf.memory().numBytes;
    const session = ModelSession.fromPackage(pkg, backend);
    return { session, bytes: tf.memory().numBytes - before };
  };

  const int8 = open(packages.int8);
  const facts = int8.session.facts();
  log(`int8 on webgpu: ${int8.bytes} bytes, ${JSON.stringify(facts.backendBytesByDtype)}`);
  const int8Generated = await int8.session.generate(prompt, { maxNewTokens: 56 });
  log(`int8: ${int8Generated.text}`);
  const ids = int8.session.promptIds('Once upon a time, there was a little');
  const cData = uniform(ids.length * packages.int8.config.vocabSize, rng(300));
  const onGpu = await probe(int8.session.model, ids, cData);
  int8.session.dispose();

  // The same package dequantized at load, through tfjs's own matmul, on the cpu backend.
  await tf.setBackend('cpu');
  const dense = ModelSession.fromPackage(packages.int8, backend);
  const onCpu = await probe(dense.model, ids, cData);
  dense.dispose();
  await tf.setBackend('webgpu');

  const float32 = open(packages.float32);
  log(`float32 on webgpu: ${float32.bytes} bytes`);
  const float32Generated = await float32.session.generate(prompt, { maxNewTokens: 56 });
  float32.session.dispose();
  return {
    suite: 'model',
    backend: tf.getBackend(),
    weightBytes: { int8: int8.bytes, float32: float32.bytes },
    backendBytesByDtype: facts.backendBytesByDtype,
    int8Text: int8Generated.text,
    float32Text: float32Generated.text,
    int8Ids: int8Generated.generatedIds,
    float32Ids: float32Generated.generatedIds,
    logits: await diff(onGpu.logits, onCpu.logits),
    inputGrad: await diff(onGpu.grad, onCpu.grad),
  };
}

self.onmessage = async (e: MessageEvent<KernelRequest>) => {
  try {
    const backend = await selectBackend('webgpu', { flags: { WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 } });
    log(`backend ${tf.getBackend()} on ${backend.adapter?.description ?? 'an unknown adapter'}`);
    const result = e.data.suite === 'model' ? await modelSuite(backend) : await kernelSuite();
    post({ kind: 'done', result });
  } catch (err) {
    post({ kind: 'error', text: (err as Error).stack ?? String(err) });
  }
};
