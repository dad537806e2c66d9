/**
 * Each decoder layer runs as one backward step whose backward is written out (layers.ts,
 * llama.ts, gpt2.ts) and keeps only a few activations. Its gradients must be tfjs's own
 * autodiff of the same forward: for every test architecture (Llama with grouped-query
 * attention, Qwen2 with biases, GPT-2), int8 as the studio runs them, with and without
 * per-layer prefix keys/values, the gradients of a random functional of the hidden states
 * with respect to the input embeddings and the prefix equal those with checkpointing off.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { selectBackend } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import { createRng } from '../../src/data/random';
import { gpt2Activation } from '../../src/model/gpt2';
import { activatedMlp, activatedMlpBackward, DenseLinear } from '../../src/model/layers';
import { mlpPreActivations } from '../../src/model/memory';
import type { CausalLM, LayerKV, MlpRecompute } from '../../src/model/types';
import { checkpointDir, type CheckpointName } from './checkpoints';

const rng = createRng(11);
const rand = (shape: number[], scale = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng.next() * 2 - 1) * scale), shape);

/** max |a − b| over max(1, max |b|). */
async function relativeDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / scale;
}

/** Gradients of Σ c ⊙ hidden (a random c) with respect to the embeddings and each layer's prefix k and v. */
function gradients(model: CausalLM, embeds: tf.Tensor3D, prefix: LayerKV[] | undefined, keyMask: tf.Tensor2D | undefined, c: tf.Tensor, checkpoint: boolean, recompute: MlpRecompute = 0): tf.Tensor[] {
  (model as unknown as { checkpointLayers: boolean }).checkpointLayers = checkpoint;
  model.mlpRecompute = recompute;
  const inputs = [embeds, ...(prefix ?? []).flatMap((p) => [p.k, p.v])];
  return tf.grads((...xs: tf.Tensor[]) => {
    const past = prefix?.map((_, i) => ({ k: xs[1 + 2 * i] as tf.Tensor4D, v: xs[2 + 2 * i] as tf.Tensor4D }));
    const { hidden } = model.forward({ inputsEmbeds: xs[0] as tf.Tensor3D, past, keyMask });
    return tf.sum(tf.mul(hidden, c));
  })(inputs);
}

const ARCHITECTURES: CheckpointName[] = ['llama', 'qwen2', 'gpt2'];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`written-out layer backwards on ${backend} equal tfjs's autodiff`, () => {
    beforeAll(async () => {
      await selectBackend(backend);
    });

    for (const name of ARCHITECTURES) {
      for (const withPrefix of [false, true]) {
        it(`${name}, int8${withPrefix ? ', with prefix keys/values and padding' : ''}`, async () => {
          const session = await ModelSession.open(folderSource(checkpointDir(name)), await selectBackend(backend), undefined, { quantize: true });
          const { model } = session;
          const cfg = model.config;
          const [b, t, p] = [2, 6, 3];
          const embeds = rand([b, t, cfg.hiddenSize]) as tf.Tensor3D;
          const prefix = withPrefix
            ? Array.from({ length: cfg.numLayers }, () => ({ k: rand([b, cfg.numKeyValueHeads, p, cfg.headDim]) as tf.Tensor4D, v: rand([b, cfg.numKeyValueHeads, p, cfg.headDim]) as tf.Tensor4D }))
            : undefined;
          // The second row's last two positions are padding, as in a right-padded batch.
          const keyMask = withPrefix ? tf.tensor2d([[...Array(p + t).fill(1)], [...Array(p + t - 2).fill(1), 0, 0]], [b, p + t]) : undefined;
          const c = rand([b, t, cfg.hiddenSize]);
          const before = tf.memory().numTensors;
          const plain = gradients(model, embeds, prefix, keyMask, c, false);
          // None, the first layer's up projection only, every up projection, everything.
          for (const recompute of new Set([0, 1, cfg.numLayers, mlpPreActivations(cfg)])) {
            const custom = gradients(model, embeds, prefix, keyMask, c, true, recompute);
            expect(custom).toHaveLength(1 + (prefix?.length ?? 0) * 2);
            for (let i = 0; i < custom.length; i++) {
              expect(await relativeDiff(custom[i], plain[i]), `gradient ${i} of ${custom.length}, MLP recomputed: ${recompute}`).toBeLessThanOrEqual(1e-4);
            }
            tf.dispose(custom);
          }
          tf.dispose(plain);
          expect(tf.memory().numTensors).toBe(before);
          tf.dispose([embeds, c, ...(prefix ?? []).flatMap((x) => [x.k, x.v]), ...(keyMask ? [keyMask] : [])]);
          session.dispose();
        });
      }
    }

    it('the activations equal their textbook formulas, computed here in float64 (GELU\'s tanh form is taken as x·σ(2u))', async () => {
      const xs = Array.from({ length: 81 }, (_, i) => (i - 40) / 4); // −10 … 10
      const tanhGelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      const x = tf.tensor1d(xs);
      for (const name of ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'relu']) {
        const y = gpt2Activation(name).apply(x);
        const got = await y.data();
        y.dispose();
        const want = xs.map(name === 'relu' ? (v) => Math.max(0, v) : tanhGelu);
        for (let i = 0; i < xs.length; i++) expect(Math.abs(got[i] - want[i]), `${name}(${xs[i]})`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i])));
      }
      x.dispose();
    });

    it('the GELU and ReLU MLP derivatives (every activation GPT-2 configs name)', async () => {
      const [d, ffn] = [12, 30];
      const w = (o: number, i: number) => new DenseLinear(rand([o, i], 1 / Math.sqrt(i)) as tf.Tensor2D);
      const fc = w(ffn, d);
      const proj = w(d, ffn);
      const h = rand([5, d]) as tf.Tensor2D;
      const dy = rand([5, d]) as tf.Tensor2D;
      for (const activation of ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu', 'relu']) {
        const act = gpt2Activation(activation);
        const written = tf.tidy(() => activatedMlpBackward(fc.apply(h), dy, fc, act, proj));
        const autodiff = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(activatedMlp(x as tf.Tensor2D, fc, act, proj).y, dy)))(h);
        expect(await relativeDiff(written, autodiff), activation).toBeLessThanOrEqual(1e-5);
        tf.dispose([written, autodiff]);
      }
      tf.dispose([h, dy, ...fc.tensors(), ...proj.tensors()]);
    });
  });
}
