import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createOptimizer, DEFAULT_OPTIMIZER, type OptimizerKind } from '../../src/tuning/optimizers';

describe('optimizers release everything they allocate', () => {
  for (const kind of ['adamw', 'adafactor'] as OptimizerKind[]) {
    it(`${kind}: after steps and dispose, tensors and bytes are back where they started`, async () => {
      await tf.setBackend('cpu');
      const before = tf.memory();
      const vars = tf.tidy(() => [tf.variable(tf.randomNormal([20, 64]), true), tf.variable(tf.randomNormal([64]), true)]);
      const optimizer = createOptimizer(vars, DEFAULT_OPTIMIZER[kind]);
      const accept = tf.scalar(1);
      const during: number[] = [];
      for (let step = 0; step < 3; step++) {
        const grads = vars.map((v) => tf.onesLike(v));
        optimizer.apply(grads, 0.1, accept);
        tf.dispose(grads);
        during.push(tf.memory().numTensors);
      }
      // The state round-trips: restoring what state() returned changes nothing.
      const state = await optimizer.state();
      optimizer.restore(state);
      expect(new Set(during).size).toBe(1);
      optimizer.dispose();
      tf.dispose([...vars, accept]);
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
    });
  }
});
