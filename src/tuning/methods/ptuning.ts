/**
 * P-tuning (Liu et al. 2021, "GPT Understands, Too"): the virtual tokens are produced by a
 * small trainable encoder over P input embeddings, which the authors found trains more
 * stably than free vectors. Two encoders, as in PEFT's PromptEncoder:
 *   MLP:  Linear(d,h) → ReLU → Linear(h,h) → ReLU → Linear(h,d)
 *   LSTM: bidirectional LSTM(d→h, n layers) → Linear(2h,2h) → ReLU → Linear(2h,d)
 * Only the encoder's output is exported (PEFT's inference-mode P_TUNING adapter); the
 * encoder itself lives in the studio checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../data/random';
import {
  createDense, createLstm, dense, denseVariables, lstm, lstmVariables, variableFrom,
  type DenseParams, type LstmParams,
} from './nn';
import type { PeftExport, PromptContribution, SoftPromptMethod } from './types';

export type PTuningEncoder = 'MLP' | 'LSTM';

export interface PTuningConfig {
  numVirtualTokens: number;
  encoder: PTuningEncoder;
  /** Encoder width h. PEFT defaults it to the model width d. */
  encoderHiddenSize: number;
  /** LSTM layers (PEFT's encoder_num_layers, default 2); the MLP always has 3 linear layers. */
  encoderNumLayers: number;
  seed: number;
}

const linearNames = (prefix: string, indices: number[]) => indices.flatMap((i) => [`${prefix}.${i}.weight`, `${prefix}.${i}.bias`]);

export class PTuning implements SoftPromptMethod {
  /** Parameter names as PEFT's PromptEncoder has them, for `count` variables (the LSTM's depth follows from it). */
  static variableNames(encoder: PTuningEncoder, count: number): string[] | null {
    if (encoder === 'MLP') return ['embedding.weight', ...linearNames('mlp_head', [0, 2, 4])];
    const layers = (count - 5) / 8;
    if (!Number.isInteger(layers) || layers < 1) return null;
    const names = ['embedding.weight'];
    for (let l = 0; l < layers; l++) {
      for (const suffix of ['', '_reverse']) {
        names.push(...['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((p) => `lstm_head.${p}_l${l}${suffix}`));
      }
    }
    return [...names, ...linearNames('mlp_head', [0, 2])];
  }

  readonly kind: 'ptuning-mlp' | 'ptuning-lstm';
  readonly numVirtualTokens: number;
  readonly variables: tf.Variable[];
  private readonly embedding: tf.Variable; // [P, d]: the encoder's input
  private readonly mlp: DenseParams[] = [];
  private readonly lstmLayers: { forward: LstmParams; backward: LstmParams }[] = [];

  constructor(initial: Float32Array, private readonly cfg: PTuningConfig, private readonly hiddenSize: number) {
    this.kind = cfg.encoder === 'MLP' ? 'ptuning-mlp' : 'ptuning-lstm';
    this.numVirtualTokens = cfg.numVirtualTokens;
    const rng = createRng(cfg.seed ^ 0x5eed);
    const d = hiddenSize;
    const h = cfg.encoderHiddenSize;
    this.embedding = variableFrom(initial, [cfg.numVirtualTokens, d]);
    if (cfg.encoder === 'MLP') {
      this.mlp.push(createDense(rng, d, h), createDense(rng, h, h), createDense(rng, h, d));
    } else {
      for (let l = 0; l < cfg.encoderNumLayers; l++) {
        const input = l === 0 ? d : 2 * h;
        this.lstmLayers.push({ forward: createLstm(rng, input, h), backward: createLstm(rng, input, h) });
      }
      this.mlp.push(createDense(rng, 2 * h, 2 * h), createDense(rng, 2 * h, d));
    }
    this.variables = [
      this.embedding,
      ...this.lstmLayers.flatMap((l) => [...lstmVariables(l.forward), ...lstmVariables(l.backward)]),
      ...this.mlp.flatMap(denseVariables),
    ];
  }

  /** The virtual tokens: the encoder applied to its input embeddings, [P, d]. */
  private encode(): tf.Tensor2D {
    let x = this.embedding as tf.Tensor2D;
    for (const layer of this.lstmLayers) {
      x = tf.concat([lstm(x, layer.forward, false), lstm(x, layer.backward, true)], 1); // [P, 2h]
    }
    this.mlp.forEach((p, i) => {
      x = dense(x, p);
      if (i < this.mlp.length - 1) x = tf.relu(x);
    });
    return x; // [P, d]
  }

  contribution(batch: number): PromptContribution {
    const inputEmbeds = this.encode().expandDims(0).tile([batch, 1, 1]) as tf.Tensor3D; // [B, P, d]
    return { inputEmbeds, length: this.numVirtualTokens };
  }

  projectable(): tf.Tensor2D {
    return tf.tidy(() => this.encode());
  }

  /** The projectable vectors are the encoder's output: replacing them bypasses the encoder. */
  withVectors(vectors: tf.Tensor2D, batch: number): PromptContribution {
    return { inputEmbeds: vectors.expandDims(0).tile([batch, 1, 1]) as tf.Tensor3D, length: this.numVirtualTokens };
  }

  async exportPeft(): Promise<PeftExport> {
    const prompt = tf.tidy(() => this.encode());
    const data = (await prompt.data()) as Float32Array;
    prompt.dispose();
    return {
      peftType: 'P_TUNING',
      tensors: { prompt_embeddings: { shape: [this.numVirtualTokens, this.hiddenSize], data } },
      config: {
        encoder_reparameterization_type: this.cfg.encoder,
        encoder_hidden_size: this.cfg.encoderHiddenSize,
        encoder_num_layers: this.cfg.encoderNumLayers,
        encoder_dropout: 0.0,
      },
    };
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
