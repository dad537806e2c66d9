/**
 * The interpretable-soft-prompt view: for each virtual token, the nearest real tokens of
 * the vocabulary. Three measures, because they disagree in telling ways: cosine (the
 * prompt-tuning paper's choice), dot product (what the model's attention and LM head see;
 * Khashabi et al. 2022 use it to show "waywardness"), and Euclidean distance.
 * One [P, d]·[d, V] product per measure and a top-k on the backend; nothing loops over
 * tokens in JavaScript.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import type { CausalLM } from '../model/types';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import type { SoftPromptMethod } from './methods/types';
import type { PromptSource } from './objective';

export type ProjectionMetric = 'cosine' | 'dot' | 'l2';

export interface NearestTokens {
  /** Token ids, best first. */
  ids: number[];
  /** Similarity (cosine, dot) or distance (l2), aligned with ids. */
  scores: number[];
}

export interface Projection {
  k: number;
  /** Per metric, one entry per virtual token. */
  cosine: NearestTokens[];
  dot: NearestTokens[];
  l2: NearestTokens[];
  /** Euclidean norm of each virtual token, beside the mean norm of real token embeddings. */
  norms: number[];
  meanTokenNorm: number;
}

/** Squared norms of the embedding table's rows, [V]; computed once per model. */
export function tableSquaredNorms(table: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.square(table), 1) as tf.Tensor1D);
}

function rows(values: Float32Array | Int32Array, p: number, k: number): number[][] {
  return Array.from({ length: p }, (_, i) => Array.from(values.subarray(i * k, (i + 1) * k)));
}

export async function projectToVocabulary(
  vectors: tf.Tensor2D, // [P, d]
  table: tf.Tensor2D, // [V, d]
  tableNormsSquared: tf.Tensor1D, // [V]
  k: number,
): Promise<Projection> {
  const [p] = vectors.shape;
  const kk = Math.min(k, table.shape[0]);
  const results = tf.tidy(() => {
    const dot = tf.matMul(vectors, table, false, true); // [P, V]
    const vectorNormsSquared = tf.sum(tf.square(vectors), 1, true); // [P, 1]
    const tableNorms = tf.sqrt(tableNormsSquared); // [V]
    const cosine = tf.div(dot, tf.maximum(tf.mul(tf.sqrt(vectorNormsSquared), tableNorms), 1e-12)); // [P, V]
    const l2 = tf.sqrt(tf.relu(tf.sub(tf.add(vectorNormsSquared, tableNormsSquared), tf.mul(dot, 2)))); // [P, V]
    const topCos = tf.topk(cosine, kk);
    const topDot = tf.topk(dot, kk);
    const topL2 = tf.topk(tf.neg(l2), kk);
    return [
      topCos.indices, topCos.values, topDot.indices, topDot.values, topL2.indices, tf.neg(topL2.values),
      tf.sqrt(vectorNormsSquared).reshape([p]), tf.mean(tableNorms),
    ];
  });
  const data = await Promise.all(results.map((t) => t.data()));
  tf.dispose(results);
  const pack = (ids: number, scores: number): NearestTokens[] => {
    const idRows = rows(data[ids] as Int32Array, p, kk);
    const scoreRows = rows(data[scores] as Float32Array, p, kk);
    return idRows.map((r, i) => ({ ids: r, scores: scoreRows[i] }));
  };
  return {
    k: kk,
    cosine: pack(0, 1),
    dot: pack(2, 3),
    l2: pack(4, 5),
    norms: Array.from(data[6] as Float32Array),
    meanTokenNorm: (data[7] as Float32Array)[0],
  };
}

/** The discrete projection: each virtual token replaced by its nearest real token (cosine). */
export function nearestTokenIds(projection: Projection): number[] {
  return projection.cosine.map((n) => n.ids[0]);
}

/** A projection at a training step, with display strings for every token id it names. */
export interface ProjectionEvent {
  step: number;
  projection: Projection;
  /** Display strings for every id that appears in the projection. */
  tokens: Record<number, string>;
}

function emptyProjection(): Projection {
  return { k: 0, cosine: [], dot: [], l2: [], norms: [], meanTokenNorm: 0 };
}

/**
 * Projections of one method's prompts onto one model's vocabulary: the nearest tokens of
 * each virtual token, and the discrete prompt made of them. Keeps the table's row norms,
 * computed once per model.
 */
export class Projector {
  private readonly tableNorms: tf.Tensor1D;

  constructor(private readonly model: CausalLM, private readonly tokenizer: TextTokenizer, private readonly topK: number) {
    this.tableNorms = tableSquaredNorms(model.embeddingTable());
  }

  private async project(vectors: tf.Tensor2D | null): Promise<Projection | null> {
    if (!vectors) return null;
    try {
      return await projectToVocabulary(vectors, this.model.embeddingTable(), this.tableNorms, this.topK);
    } finally {
      vectors.dispose();
    }
  }

  /** Projects `vectors` (and disposes them): the virtual tokens' nearest vocabulary tokens at `step`. */
  async event(step: number, vectors: tf.Tensor2D | null): Promise<ProjectionEvent> {
    const projection = await this.project(vectors);
    const tokens: Record<number, string> = {};
    if (projection) {
      for (const list of [projection.cosine, projection.dot, projection.l2]) {
        for (const n of list) for (const id of n.ids) tokens[id] ??= this.tokenizer.displayToken(id);
      }
    }
    return { step, projection: projection ?? emptyProjection(), tokens };
  }

  /** Each virtual token replaced by its nearest real token (cosine): the discrete projection, or null for a method without one. */
  async discrete(method: SoftPromptMethod): Promise<{ source: PromptSource; ids: number[] } | null> {
    const projection = await this.project(method.projectable(0));
    if (!projection) return null;
    const ids = nearestTokenIds(projection);
    const table = this.model.embeddingTable();
    return {
      ids,
      source: (batch) => {
        const vectors = tf.gather(table, tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
        const c = method.withVectors(vectors, batch);
        if (!c) throw new StudioError('training', 'This method has no discrete projection.');
        return c;
      },
    };
  }

  dispose(): void {
    this.tableNorms.dispose();
  }
}
