/**
 * npm run bench:products [-- --model smollm2-135m] [--rows 52,148,1184]
 * One layer's products at a real-size model's shapes on wasm in Node, forward and input
 * gradient, as GFLOP/s beside the bench's yardstick (the 512² matmul): what a training step's
 * "ratio to matmul" can reach at each row count (batch × positions).
 *
 * tfjs-wasm keeps XNNPACK's packed copy of a matmul's right-hand operand for as long as that
 * tensor lives. A float weight held whole is packed once; the int8 layers' dequantized tiles
 * are new tensors at every call. So the rows: float32 weights held as tensors (packed once),
 * the same with a fresh copy each call (packed every time), and the engine's int8 products.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/engine/backend';
import { int8MatMul, int8MatMulInputGrad, registerInt8Kernels } from '../src/model/kernels';
import { packInt8Rows } from '../src/model/quantize';
import { matmulFlopsPerSecondNow } from './step';
import { REAL_SIZE_SHAPES } from './synthetic';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'smollm2-135m' },
    rows: { type: 'string', default: '52,148,1184' },
    repeats: { type: 'string', default: '5' },
  },
});
const shape = REAL_SIZE_SHAPES.find((s) => s.name.toLowerCase().includes(values.model!.toLowerCase()));
if (!shape) throw new Error(`--model: none of ${REAL_SIZE_SHAPES.map((s) => s.name).join(', ')} is named like "${values.model}"`);
const rowCounts = values.rows!.split(',').map(Number);
if (rowCounts.some((n) => !(Number.isInteger(n) && n > 0))) throw new Error(`--rows: whole numbers, not "${values.rows}"`);
const repeats = Number(values.repeats);

await selectBackend('wasm');
registerInt8Kernels();

// One layer's weight matrices [out, in].
const d = shape.hiddenSize;
const kv = (d / shape.heads) * shape.kvHeads;
const mlp = shape.modelType === 'gpt2' ? [[shape.intermediateSize, d], [d, shape.intermediateSize]] : [[shape.intermediateSize, d], [shape.intermediateSize, d], [d, shape.intermediateSize]];
const matrices = [[d, d], [kv, d], [kv, d], [d, d], ...mlp].map(([out, inFeatures]) => {
  const values8 = new Int8Array(out * inFeatures).map(() => Math.round(Math.random() * 254) - 127);
  const { words, wordsPerRow } = packInt8Rows(values8, out, inFeatures);
  return {
    out, inFeatures,
    packed: tf.tensor2d(words, [out, wordsPerRow], 'int32'),
    scales: tf.tensor1d(new Float32Array(out).fill(0.01)),
    weightT: tf.randomNormal([inFeatures, out]) as tf.Tensor2D, // for x · Wᵀ
    weight: tf.randomNormal([out, inFeatures]) as tf.Tensor2D, // for dy · W
  };
});

/** Median ms of `repeats` calls after one warm-up. */
function median(f: () => void): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    f();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(repeats / 2)];
}

const lines = [
  `One ${shape.name} layer's products (${matrices.map((m) => `${m.out}×${m.inFeatures}`).join(', ')}), forward and input gradient, wasm in Node (one thread); GFLOP/s, and the share of the 512² matmul's rate measured beside each row.`,
  '',
  '| rows | float32 weights held (packed once) | float32, a fresh copy each call | int8, as the engine runs them | 512² matmul |',
  '|---|---|---|---|---|',
];
for (const rows of rowCounts) {
  const inputs = matrices.map((m) => ({ m, x: tf.randomNormal([rows, m.inFeatures]) as tf.Tensor2D, dy: tf.randomNormal([rows, m.out]) as tf.Tensor2D }));
  const flops = inputs.reduce((sum, { m }) => sum + 2 * 2 * rows * m.out * m.inFeatures, 0);
  const before = matmulFlopsPerSecondNow();
  const held = median(() => inputs.forEach(({ m, x, dy }) => tf.dispose([tf.matMul(x, m.weightT), tf.matMul(dy, m.weight)])));
  const fresh = median(() => inputs.forEach(({ m, x, dy }) => tf.dispose(tf.tidy(() => [tf.matMul(x, tf.add(m.weightT, 0)), tf.matMul(dy, tf.add(m.weight, 0))]))));
  const int8 = median(() => inputs.forEach(({ m, x, dy }) => tf.dispose([int8MatMul(x, m.packed, m.scales), int8MatMulInputGrad(dy, m.packed, m.scales, m.inFeatures)])));
  const yardstick = (before + matmulFlopsPerSecondNow()) / 2;
  const cell = (ms: number) => `${(flops / ms / 1e6).toFixed(1)} (${((flops / ms) * 1e3 / yardstick).toFixed(2)})`;
  lines.push(`| ${rows} | ${cell(held)} | ${cell(fresh)} | ${cell(int8)} | ${(yardstick / 1e9).toFixed(1)} |`);
  tf.dispose(inputs.flatMap(({ x, dy }) => [x, dy]));
}
process.stdout.write(lines.join('\n') + '\n');
process.exit(0);
