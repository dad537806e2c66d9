/**
 * Runs the int8 kernel cases of ./cases.ts. Plain TypeScript over tfjs and src/model (no
 * DOM, no test framework), so any runner can use it: Vitest in Node, the e2e worker in
 * Chromium, or Node on WebGPU.
 *
 * The backend cases take the name of a tfjs backend the runner has already registered and
 * initialized (flags, adapter: e.g. `selectBackend('webgpu', …)` in src/engine/backend.ts).
 * The int8 kernels run on every backend the studio uses (WGSL on webgpu, dequantized tiles
 * on wasm and cpu): each quantized layer keeps int8 weights and is held to KERNEL_TOLERANCE
 * against its dense twin on the same backend, and the kernels also against the plain-JS
 * reference. On a backend without them the layers would be dequantized at construction and
 * must equal their dense twins bit for bit. Only async reads (`await t.data()`): a
 * synchronous readback in a worker crashes SwiftShader's GPU process.
 */
import * as tf from '@tensorflow/tfjs';
import { int8KernelsAvailable, int8MatMul, int8MatMulInputGrad } from '../../src/model/kernels';
import { DenseEmbedding, DenseLinear, type Linear } from '../../src/model/layers';
import { dequantizeRows, packInt8Rows, quantizeRows, type QuantizedMatrix } from '../../src/model/quantize';
import { QuantEmbedding, QuantLinear } from '../../src/model/quantLinear';
import {
  compare,
  EMBEDDING_CASES,
  embeddingCaseName,
  EXACT,
  KERNEL_TOLERANCE,
  MATMUL_CASES,
  matMulCaseName,
  REFERENCE_TOLERANCE,
  rng,
  uniform,
  type BackendCasesResult,
  type CaseResult,
  type Check,
  type EmbeddingCase,
  type Fact,
  type MatMulCase,
} from './cases';
import {
  int8EmbeddingReference,
  int8MatMulInputGradReference,
  int8MatMulReference,
  unpackInt8Word,
  type PackedMatrix,
} from './reference';

/** Weights [rows, cols] quantized, scaled so outputs over `cols` inputs in [-1, 1] are ~5-15. */
export function randomQuantized(rows: number, cols: number, next: () => number): QuantizedMatrix {
  const q = quantizeRows(uniform(rows * cols, next), rows, cols);
  const base = 5 / (42.3 * Math.sqrt(cols));
  // Every scale distinct, so a row's scale applied to the wrong row shows.
  q.scales.forEach((_, i) => (q.scales[i] = Math.fround(base * (0.5 + next()))));
  return q;
}

function packed(q: QuantizedMatrix): PackedMatrix {
  const { words, wordsPerRow } = packInt8Rows(q.values, q.rows, q.cols);
  return { words, wordsPerRow, scales: q.scales, rows: q.rows };
}

/** Compares two tensors of the same shape (a shape mismatch fails the check). */
async function compareTensors(what: string, actual: tf.Tensor, expected: tf.Tensor, relative: number): Promise<Check> {
  if (!tf.util.arraysEqual(actual.shape, expected.shape)) {
    return { what: `${what} (shape [${actual.shape}] against [${expected.shape}])`, maxDiff: Infinity, maxRef: 0, relative };
  }
  return compare(what, await actual.data(), await expected.data(), relative);
}

/** Makes `backend` current and says whether the int8 kernels run on it. */
async function useBackend(backend: string): Promise<boolean> {
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  if (tf.getBackend() !== backend) throw new Error(`the tfjs backend "${backend}" is not available (now on ${tf.getBackend()})`);
  return int8KernelsAvailable();
}

// ---------------------------------------------------------------------------------------
// On a backend

/**
 * QuantLinear against DenseLinear on the dequantized weights: the forward, tf.grad through
 * it, and a second derivative (the input-gradient kernel's own gradient); where the kernels
 * run, also the input-gradient kernel alone and the unfused forward kernel against the JS
 * reference of its arithmetic.
 */
export async function runMatMulCase(c: MatMulCase, backend: string): Promise<CaseResult> {
  const kernels = await useBackend(backend);
  const tolerance = kernels ? KERNEL_TOLERANCE : EXACT;
  const startTensors = tf.memory().numTensors;
  const [n, k, m] = c.shape;
  const next = rng(c.seed);
  const q = randomQuantized(m, k, next);
  const xData = uniform(n * k, next);
  const biasData = uniform(m, next);
  const x = tf.tensor2d(xData, [n, k]);
  const dy = tf.tensor2d(uniform(n * m, next), [n, m]);
  const cy = tf.tensor2d(uniform(n * m, next), [n, m]);
  const cx = tf.tensor2d(uniform(n * k, next), [n, k]);
  const bias = c.bias ? tf.tensor1d(biasData) : undefined;
  const weight = tf.tensor2d(dequantizeRows(q), [m, k]); // [out, in] float32
  const quant = QuantLinear.fromQuantized(q, bias);
  const dense = new DenseLinear(weight, bias);

  const loss = (layer: Linear) => (v: tf.Tensor) => tf.sum(tf.mul(layer.apply(v as tf.Tensor2D), cy));
  // d/dx Σ cx ⊙ ∇ₓ Σ (xWᵀ)² = 2·(cx·Wᵀ)·W: the input gradient differentiated in turn.
  const secondOrder = (layer: Linear) => tf.grad((v: tf.Tensor) =>
    tf.sum(tf.mul(tf.grad((u: tf.Tensor) => tf.sum(tf.square(layer.apply(u as tf.Tensor2D))))(v), cx)))(x);
  const pairs: [string, tf.Tensor, tf.Tensor][] = [
    ['forward', tf.tidy(() => quant.apply(x)), tf.tidy(() => dense.apply(x))],
    ['tf.grad', tf.grad(loss(quant))(x), tf.grad(loss(dense))(x)],
    ['second derivative', secondOrder(quant), secondOrder(dense)],
  ];
  const checks: Check[] = [];
  for (const [what, actual, expected] of pairs) checks.push(await compareTensors(what, actual, expected, tolerance));
  if (kernels) {
    const [words, scales] = quant.tensors() as [tf.Tensor2D, tf.Tensor1D];
    const dx = int8MatMulInputGrad(dy, words, scales, k);
    const dxRef = tf.matMul(dy, weight);
    checks.push(await compareTensors('input-gradient kernel', dx, dxRef, tolerance));
    // The kernel without its fused bias, as the gradient's gradient uses it.
    const unfused = tf.tidy(() => (bias ? tf.add(int8MatMul(x, words, scales), bias) : int8MatMul(x, words, scales)));
    const jsRef = int8MatMulReference(xData, n, k, packed(q), c.bias ? biasData : undefined);
    checks.push(compare('forward kernel against the JS reference', await unfused.data(), jsRef, tolerance));
    tf.dispose([dx, dxRef, unfused]);
  }
  const facts: Fact[] = [
    { what: '[inFeatures, outFeatures]', actual: [quant.inFeatures, quant.outFeatures], expected: [k, m] },
    {
      what: 'dtypes of the layer\'s tensors',
      actual: quant.tensors().map((t) => t.dtype),
      expected: [...(kernels ? ['int32', 'float32'] : ['float32']), ...(c.bias ? ['float32'] : [])],
    },
  ];
  tf.dispose([x, dy, cy, cx, weight, ...pairs.flatMap(([, a, e]) => [a, e]), ...quant.tensors()]);
  facts.push({ what: 'tensors left behind', actual: tf.memory().numTensors - startTensors, expected: 0 });
  return { name: matMulCaseName(c), checks, facts };
}

/**
 * QuantEmbedding against DenseEmbedding on the dequantized table: the lookup and tiles of
 * rows, as they are and transposed (exact: dequantizing is one float32 multiply on either
 * side), and the tied head.
 */
export async function runEmbeddingCase(c: EmbeddingCase, backend: string): Promise<CaseResult> {
  const kernels = await useBackend(backend);
  const startTensors = tf.memory().numTensors;
  const [v, d, b, t] = c.shape;
  const next = rng(c.seed);
  const q = randomQuantized(v, d, next);
  // The first and last rows, then any.
  const idData = Int32Array.from({ length: b * t }, (_, i) => (i === 0 ? 0 : i === 1 ? v - 1 : Math.floor(next() * v)));
  const ids = tf.tensor2d(idData, [b, t], 'int32');
  const table = tf.tensor2d(dequantizeRows(q), [v, d]);
  const h = tf.tensor2d(uniform(3 * d, next), [3, d]);
  const quant = QuantEmbedding.fromQuantized(q);
  const dense = new DenseEmbedding(table);
  const dtypes = quant.tensors().map((x) => x.dtype);

  const looked = quant.lookup(ids);
  const lookedRef = dense.lookup(ids);
  const logits = tf.tidy(() => quant.asLinear().apply(h));
  const logitsRef = tf.tidy(() => dense.asLinear().apply(h));
  // Every row, then a tile from the middle to the end, transposed.
  const start = Math.floor(v / 3);
  const rows = quant.rowRange(0, v);
  const tileT = quant.rowRange(start, v - start, true);
  const tileTRef = tf.tidy(() => tf.slice(table, [start, 0], [v - start, d]).transpose());
  const checks: Check[] = [
    await compareTensors('lookup', looked, lookedRef, EXACT),
    await compareTensors('rows', rows, table, EXACT),
    await compareTensors('rows transposed', tileT, tileTRef, EXACT),
    await compareTensors('tied head', logits, logitsRef, kernels ? KERNEL_TOLERANCE : EXACT),
  ];
  const own = quant.tensors();
  const facts: Fact[] = [
    { what: '[vocabSize, dim]', actual: [quant.vocabSize, quant.dim], expected: [v, d] },
    { what: 'dtypes of the table\'s tensors', actual: dtypes, expected: kernels ? ['int32', 'float32'] : ['float32'] },
    { what: 'the head\'s tensors, as indices into the embedding\'s', actual: quant.asLinear().tensors().map((x) => own.indexOf(x)), expected: kernels ? [0, 1] : [0] },
  ];
  tf.dispose([ids, table, h, looked, lookedRef, logits, logitsRef, rows, tileT, tileTRef, ...quant.tensors()]);
  facts.push({ what: 'tensors left behind', actual: tf.memory().numTensors - startTensors, expected: 0 });
  return { name: embeddingCaseName(c), checks, facts };
}

/** Every matmul and embedding case on `backend`, one after another. */
export async function runBackendCases(backend: string, log: (line: string) => void = () => {}): Promise<BackendCasesResult> {
  const int8Kernels = await useBackend(backend);
  const cases: CaseResult[] = [];
  const done = (r: CaseResult) => {
    cases.push(r);
    log(`${r.name}: ${JSON.stringify(r.checks.map(({ what, maxDiff, maxRef }) => ({ what, maxDiff, maxRef })))}`);
  };
  for (const c of MATMUL_CASES) done(await runMatMulCase(c, backend));
  for (const c of EMBEDDING_CASES) done(await runEmbeddingCase(c, backend));
  return { backend, int8Kernels, cases };
}

// ---------------------------------------------------------------------------------------
// The plain-JS reference, no backend

/** Float64 C = A · Bᵀ for A [n, k], B [m, k] row-major. */
function matMulT(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let r = 0; r < k; r++) s += a[i * k + r] * b[j * k + r];
    out[i * m + j] = s;
  }
  return out;
}

/** Float64 C = A · B for A [n, m], B [m, k] row-major. */
function matMul(a: Float32Array, b: Float32Array, n: number, m: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let r = 0; r < m; r++) {
    const av = a[i * m + r];
    for (let j = 0; j < k; j++) out[i * k + j] += av * b[r * k + j];
  }
  return out;
}

/** y = x·Wᵀ + b and dx = dy·W of the reference against float64 products of the dequantized weights. */
export function runReferenceMatMulCase([n, k, m]: [number, number, number]): CaseResult {
  const next = rng(n * 1000 + k * 10 + m);
  const q = randomQuantized(m, k, next);
  const w = packed(q);
  const dense = dequantizeRows(q); // [out, in]
  const x = uniform(n * k, next);
  const bias = uniform(m, next);
  const y = int8MatMulReference(x, n, k, w, bias);
  const expectedY = matMulT(x, dense, n, k, m).map((v, i) => v + bias[i % m]);
  const dy = uniform(n * m, next);
  const dx = int8MatMulInputGradReference(dy, n, w, k);
  const expectedDx = matMul(dy, dense, n, m, k);
  return {
    name: `N=${n} in=${k} out=${m}`,
    checks: [
      compare('y = x·Wᵀ + b', y, expectedY, REFERENCE_TOLERANCE),
      compare('dx = dy·W', dx, expectedDx, REFERENCE_TOLERANCE),
    ],
    facts: [],
  };
}

/** Embedding rows of the reference are the dequantized rows; ids outside the table give zero rows. */
export function runReferenceEmbeddingCase([v, d]: [number, number], index: number): CaseResult {
  const q = randomQuantized(v, d, rng(7 + index));
  const dense = dequantizeRows(q);
  const ids = [0, v - 1, 3 % v, v, -1, Math.floor(v / 2)];
  const expected = new Float32Array(ids.length * d);
  ids.forEach((id, row) => {
    if (id >= 0 && id < v) expected.set(dense.subarray(id * d, (id + 1) * d), row * d);
  });
  return {
    name: `V=${v} d=${d}`,
    checks: [compare(`rows of ids [${ids}]`, int8EmbeddingReference(ids, packed(q), d), expected, EXACT)],
    facts: [],
  };
}

/** packInt8Rows then unpacking each word gives the values back, sign included; the padding bytes are zero. */
export function runPackingCase(cols: number): CaseResult {
  const next = rng(1 + cols);
  const rows = 3;
  const values = Int8Array.from({ length: rows * cols }, () => Math.round(next() * 254 - 127));
  values[0] = -127;
  values[values.length - 1] = 127;
  const { words, wordsPerRow } = packInt8Rows(values, rows, cols);
  const unpacked: number[] = [];
  const expected: number[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < wordsPerRow * 4; c++) {
    unpacked.push(unpackInt8Word(words[r * wordsPerRow + (c >> 2)])[c & 3]);
    expected.push(c < cols ? values[r * cols + c] : 0);
  }
  return {
    name: `rows of ${cols}`,
    checks: [compare('unpacked values', unpacked, expected, EXACT)],
    facts: [{ what: 'words per row', actual: wordsPerRow, expected: Math.ceil(cols / 4) }],
  };
}
