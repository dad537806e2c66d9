/**
 * Prompt tuning (Lester et al. 2021): P trainable vectors in the model's embedding space,
 * placed before the input's token embeddings. The whole method is one [P, d] matrix.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../errors';
import type { ModelDims } from '../../formats/peft';
import { variableFrom } from './nn';
import { peftTensor, type PeftExport, type PromptContribution, type SoftPromptMethod } from './types';

export interface PromptTuningConfig {
  /** Number of virtual tokens P. The paper: 20-100; longer helps small models most. */
  numVirtualTokens: number;
}

export class PromptTuning implements SoftPromptMethod {
  /** Parameter names as PEFT's PromptEmbedding has them. */
  static readonly variableNames = ['embedding.weight'];

  /**
   * A PROMPT_TUNING adapter, and a P_TUNING one too: PEFT stores P-tuning's encoder
   * output, which runs here as a plain prompt.
   */
  static fromPeft(exported: PeftExport, model: ModelDims): PromptTuning {
    const prompt = peftTensor(exported, 'prompt_embeddings');
    const [p, width] = prompt.shape;
    if (width !== model.hiddenSize) {
      throw new StudioError('adapter', `The adapter's prompt has token_dim ${width}, but this model's embeddings have ${model.hiddenSize}.`,
        'Load the model the adapter was trained for.');
    }
    return new PromptTuning(prompt.data, p, width);
  }

  readonly kind = 'prompt' as const;
  readonly numVirtualTokens: number;
  readonly variables: tf.Variable[];
  private readonly embedding: tf.Variable; // [P, d]

  constructor(initial: Float32Array, numVirtualTokens: number, hiddenSize: number) {
    this.numVirtualTokens = numVirtualTokens;
    this.embedding = variableFrom(initial, [numVirtualTokens, hiddenSize]);
    this.variables = [this.embedding];
  }

  contribution(batch: number): PromptContribution {
    const inputEmbeds = this.embedding.expandDims(0).tile([batch, 1, 1]) as tf.Tensor3D; // [B, P, d]
    return { inputEmbeds, length: this.numVirtualTokens };
  }

  projectable(): tf.Tensor2D {
    return this.embedding.clone() as tf.Tensor2D;
  }

  withVectors(vectors: tf.Tensor2D, batch: number): PromptContribution {
    return { inputEmbeds: vectors.expandDims(0).tile([batch, 1, 1]) as tf.Tensor3D, length: this.numVirtualTokens };
  }

  async exportPeft(): Promise<PeftExport> {
    const [p, d] = this.embedding.shape;
    return {
      peftType: 'PROMPT_TUNING',
      tensors: { prompt_embeddings: { shape: [p, d], data: (await this.embedding.data()) as Float32Array } },
      config: {},
    };
  }

  dispose(): void {
    this.embedding.dispose();
  }
}
