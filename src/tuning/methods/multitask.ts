/**
 * Multitask prompt tuning (Wang et al. 2023): one prompt shared by every task, adapted to
 * task k by an elementwise (Hadamard) product with a rank-r matrix W_k = u_k · v_k:
 *   P_k = P_shared ∘ (u_k [P, r] · v_k [r, d])
 * The task of each row comes from the CSV's task column. Tensor names and layout follow
 * PEFT's MultitaskPromptEmbedding (prefix_task_cols [T, P, r], prefix_task_rows [T, r, d]).
 * We start every W_k at all ones (u = v = 1/√r, plus a little noise to break symmetry) so
 * that training begins from the shared prompt itself; PEFT starts W_k near zero.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../data/random';
import { uniformValues, variableFrom } from './nn';
import { peftTensor, type PeftExport, type PromptContribution, type SoftPromptMethod } from './types';

export interface MultitaskConfig {
  numVirtualTokens: number;
  numTasks: number;
  /** Rank r of each task's update (PEFT's num_ranks, default 1). */
  numRanks: number;
  seed: number;
}

export class MultitaskPromptTuning implements SoftPromptMethod {
  /** Parameter names as PEFT's MultitaskPromptEmbedding has them. */
  static readonly variableNames = ['embedding.weight', 'prefix_task_cols', 'prefix_task_rows'];

  /** A MULTITASK_PROMPT_TUNING adapter: the shared prompt and every task's factors. */
  static fromPeft(exported: PeftExport): MultitaskPromptTuning {
    const prompt = peftTensor(exported, 'prompt_embeddings');
    const cols = peftTensor(exported, 'prefix_task_cols');
    const rows = peftTensor(exported, 'prefix_task_rows');
    const [p, width] = prompt.shape;
    const [tasks, , ranks] = cols.shape;
    return new MultitaskPromptTuning(prompt.data, { numVirtualTokens: p, numTasks: tasks, numRanks: ranks, seed: 0 }, width, { cols: cols.data, rows: rows.data });
  }

  readonly kind = 'multitask' as const;
  readonly numVirtualTokens: number;
  readonly variables: tf.Variable[];
  private readonly shared: tf.Variable; // [P, d]
  private readonly cols: tf.Variable; // [T, P, r]
  private readonly rows: tf.Variable; // [T, r, d]

  /** `factors` sets each task's update directly (an imported adapter); otherwise W_k starts at ones. */
  constructor(
    initial: Float32Array,
    private readonly cfg: MultitaskConfig,
    private readonly hiddenSize: number,
    factors?: { cols: Float32Array; rows: Float32Array },
  ) {
    const { numVirtualTokens: p, numTasks: t, numRanks: r } = cfg;
    this.numVirtualTokens = p;
    const rng = createRng(cfg.seed ^ 0x7a5c);
    const start = (n: number) => {
      const noise = uniformValues(rng, n, 0.01);
      for (let i = 0; i < n; i++) noise[i] += 1 / Math.sqrt(r);
      return noise;
    };
    this.shared = variableFrom(initial, [p, hiddenSize]);
    this.cols = variableFrom(factors?.cols ?? start(t * p * r), [t, p, r]);
    this.rows = variableFrom(factors?.rows ?? start(t * r * hiddenSize), [t, r, hiddenSize]);
    this.variables = [this.shared, this.cols, this.rows];
  }

  /** [B, P, d] prompts for tasks [B]; a one-hot product instead of gather keeps gradients on every backend. */
  private taskPrompts(taskIds: tf.Tensor1D): tf.Tensor3D {
    const { numVirtualTokens: p, numTasks: t, numRanks: r } = this.cfg;
    const b = taskIds.shape[0];
    // tf.oneHot refuses depth 1; a single task is picked by ones.
    const pick = (t === 1 ? tf.ones([b, 1]) : tf.oneHot(taskIds, t).toFloat()) as tf.Tensor2D; // [B, T]
    const u = tf.matMul(pick, this.cols.reshape([t, p * r]) as tf.Tensor2D).reshape([b, p, r]) as tf.Tensor3D;
    const v = tf.matMul(pick, this.rows.reshape([t, r * this.hiddenSize]) as tf.Tensor2D).reshape([b, r, this.hiddenSize]) as tf.Tensor3D;
    return tf.mul(this.shared.expandDims(0), tf.matMul(u, v)) as tf.Tensor3D; // [B, P, d]
  }

  contribution(batch: number, taskIds?: tf.Tensor1D): PromptContribution {
    const ids = taskIds ?? (tf.zeros([batch], 'int32') as tf.Tensor1D);
    return { inputEmbeds: this.taskPrompts(ids), length: this.numVirtualTokens };
  }

  projectable(task = 0): tf.Tensor2D {
    return tf.tidy(() => this.taskPrompts(tf.tensor1d([task], 'int32')).squeeze([0]) as tf.Tensor2D);
  }

  withVectors(vectors: tf.Tensor2D, batch: number): PromptContribution {
    return { inputEmbeds: vectors.expandDims(0).tile([batch, 1, 1]) as tf.Tensor3D, length: this.numVirtualTokens };
  }

  async exportPeft(): Promise<PeftExport> {
    const read = async (v: tf.Variable) => ({ shape: [...v.shape], data: (await v.data()) as Float32Array });
    return {
      peftType: 'MULTITASK_PROMPT_TUNING',
      tensors: {
        prompt_embeddings: await read(this.shared),
        prefix_task_cols: await read(this.cols),
        prefix_task_rows: await read(this.rows),
      },
      config: { num_tasks: this.cfg.numTasks, num_ranks: this.cfg.numRanks },
    };
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
