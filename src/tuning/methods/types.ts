/**
 * What every soft-prompt method is to the rest of the engine. The train loop, the
 * evaluator, export and checkpoints talk only to this interface; each method's file
 * holds its parameters, how they enter the frozen model, and its PEFT export form.
 */
import type * as tf from '@tensorflow/tfjs';
import { StudioError } from '../../errors';
import type { ExportTensor, PeftExport } from '../../formats/peft';
import type { LayerKV } from '../../model/types';

export type { ExportTensor, PeftExport, PeftType } from '../../formats/peft';
export type { MethodKind } from './catalog';
import type { MethodKind } from './catalog';


/** How the soft prompt reaches the model for one batch. */
export interface PromptContribution {
  /** [B, P, d] vectors placed before the input tokens' embeddings (prompt, P-tuning, multitask). */
  inputEmbeds?: tf.Tensor3D;
  /** Per layer [B, Hkv, P, hd] keys and values seen before the input (prefix tuning). */
  pastKV?: LayerKV[];
  /** Positions the prompt occupies before the input tokens. */
  length: number;
}

export interface SoftPromptMethod {
  readonly kind: MethodKind;
  readonly numVirtualTokens: number;
  /** The only trainable tensors: the frozen model never enters the gradient tape. */
  readonly variables: tf.Variable[];
  /**
   * The prompt's contribution for a batch. `taskIds` [B] int32 selects each row's task
   * (multitask only). Call inside a tidy / gradient scope.
   */
  contribution(batch: number, taskIds?: tf.Tensor1D): PromptContribution;
  /**
   * [P, d] vectors in the token-embedding space that best describe the prompt, for the
   * nearest-token projection: the prompt itself, P-tuning's encoder output, the prefix
   * encoder's input embedding, or a task's prompt. Null when the method has no such
   * vectors (prefix tuning without projection).
   */
  projectable(task?: number): tf.Tensor2D | null;
  /**
   * The contribution when the prompt's projectable vectors are replaced by `vectors`
   * [P, d] (e.g. the nearest real tokens' embeddings, to score the discrete projection).
   * Null when the method has no projectable vectors.
   */
  withVectors(vectors: tf.Tensor2D, batch: number): PromptContribution | null;
  /** The tensors and config fields PEFT stores for this method. */
  exportPeft(): Promise<PeftExport>;
  dispose(): void;
}

/** A tensor an imported adapter must have for its PEFT type. */
export function peftTensor(exported: PeftExport, name: string): ExportTensor {
  const t = exported.tensors[name];
  if (!t) throw new StudioError('adapter', `The adapter has no "${name}" tensor, which ${exported.peftType} needs.`);
  return t;
}
