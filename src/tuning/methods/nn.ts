/**
 * The few trainable layers the reparameterized methods need (P-tuning's MLP and bi-LSTM,
 * prefix tuning's MLP), with PyTorch's parameter layout and default initialization so
 * that shapes and scales match what PEFT builds.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../data/random';

export function variableFrom(values: Float32Array, shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
}

/** U(-bound, bound) values from our seeded generator (tf.randomUniform cannot be checkpointed). */
export function uniformValues(rng: Rng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

/** nn.Linear: weight [out, in], bias [out], both U(-1/√in, 1/√in) as PyTorch initializes them. */
export interface DenseParams {
  weight: tf.Variable; // [out, in]
  bias: tf.Variable; // [out]
}

export function createDense(rng: Rng, inFeatures: number, outFeatures: number): DenseParams {
  const bound = 1 / Math.sqrt(inFeatures);
  return {
    weight: variableFrom(uniformValues(rng, outFeatures * inFeatures, bound), [outFeatures, inFeatures]),
    bias: variableFrom(uniformValues(rng, outFeatures, bound), [outFeatures]),
  };
}

/** [N, in] → [N, out] */
export function dense(x: tf.Tensor2D, p: DenseParams): tf.Tensor2D {
  return tf.add(tf.matMul(x, p.weight as tf.Tensor2D, false, true), p.bias) as tf.Tensor2D;
}

/** nn.LSTM parameters of one direction of one layer; gates stacked in PyTorch's order i, f, g, o. */
export interface LstmParams {
  weightIh: tf.Variable; // [4h, in]
  weightHh: tf.Variable; // [4h, h]
  biasIh: tf.Variable; // [4h]
  biasHh: tf.Variable; // [4h]
}

export function createLstm(rng: Rng, inFeatures: number, hidden: number): LstmParams {
  const bound = 1 / Math.sqrt(hidden);
  return {
    weightIh: variableFrom(uniformValues(rng, 4 * hidden * inFeatures, bound), [4 * hidden, inFeatures]),
    weightHh: variableFrom(uniformValues(rng, 4 * hidden * hidden, bound), [4 * hidden, hidden]),
    biasIh: variableFrom(uniformValues(rng, 4 * hidden, bound), [4 * hidden]),
    biasHh: variableFrom(uniformValues(rng, 4 * hidden, bound), [4 * hidden]),
  };
}

/** Runs one LSTM direction over a [T, in] sequence (batch of one), returning [T, h]. */
export function lstm(x: tf.Tensor2D, p: LstmParams, reverse: boolean): tf.Tensor2D {
  const [t] = x.shape;
  const hidden = p.weightHh.shape[1] as number;
  // Input contributions for every step at once: [T, 4h]
  const inputGates = tf.add(tf.add(tf.matMul(x, p.weightIh as tf.Tensor2D, false, true), p.biasIh), p.biasHh) as tf.Tensor2D;
  let h = tf.zeros([1, hidden]) as tf.Tensor2D;
  let c = tf.zeros([1, hidden]) as tf.Tensor2D;
  const outputs: tf.Tensor2D[] = new Array(t);
  for (let s = 0; s < t; s++) {
    const step = reverse ? t - 1 - s : s;
    const gates = tf.add(inputGates.slice([step, 0], [1, 4 * hidden]), tf.matMul(h, p.weightHh as tf.Tensor2D, false, true)); // [1, 4h]
    const [i, f, g, o] = tf.split(gates, 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    outputs[step] = h;
  }
  return tf.concat(outputs, 0); // [T, h]
}

export function denseVariables(p: DenseParams): tf.Variable[] {
  return [p.weight, p.bias];
}

export function lstmVariables(p: LstmParams): tf.Variable[] {
  return [p.weightIh, p.weightHh, p.biasIh, p.biasHh];
}
