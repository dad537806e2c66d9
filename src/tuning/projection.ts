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
import { TILE_ELEMENTS } from '../model/kernels';
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

/** Rows of the table per tile: about a million values, whatever the width. */
function tileRows(dim: number): number {
  return Math.max(1, Math.floor(TILE_ELEMENTS / dim));
}

/** The embedding table's row ranges, tile by tile. */
function* tiles(vocabSize: number, dim: number): Generator<[number, number]> {
  const per = tileRows(dim);
  for (let start = 0; start < vocabSize; start += per) yield [start, Math.min(per, vocabSize - start)];
}

/** Squared norms of the embedding table's rows, [V]; computed once per model, a tile at a time. */
export function tableSquaredNorms(model: Pick<CausalLM, 'config' | 'embeddingRows'>): tf.Tensor1D {
  const { vocabSize, hiddenSize } = model.config;
  const parts: tf.Tensor1D[] = [];
  try {
    for (const [start, count] of tiles(vocabSize, hiddenSize)) {
      parts.push(tf.tidy(() => tf.sum(tf.square(model.embeddingRows(start, count)), 1) as tf.Tensor1D)); // [count]
    }
    return parts.length === 1 ? parts.pop()! : (tf.concat(parts) as tf.Tensor1D); // [V]
  } finally {
    tf.dispose(parts);
  }
}

function rows(values: Float32Array | Int32Array, p: number, k: number): number[][] {
  return Array.from({ length: p }, (_, i) => Array.from(values.subarray(i * k, (i + 1) * k)));
}

/**
 * The k nearest rows of the table for each of P vectors, by cosine, dot product and L2. The
 * table is read a tile at a time (as [d, n], a plain product): each tile's own top k are
 * kept, and the best k of those candidates are the answer — the same as one top k over the
 * whole vocabulary, without its [P, V] scores or the float table ever existing at once.
 */
export async function projectToVocabulary(
  vectors: tf.Tensor2D, // [P, d]
  model: Pick<CausalLM, 'config' | 'embeddingRows'>,
  tableNormsSquared: tf.Tensor1D, // [V]
  k: number,
): Promise<Projection> {
  const [p] = vectors.shape;
  const { vocabSize, hiddenSize } = model.config;
  const kk = Math.min(k, vocabSize);
  const results = tf.tidy(() => {
    const vectorNormsSquared = tf.sum(tf.square(vectors), 1, true); // [P, 1]
    const vectorNorms = tf.sqrt(vectorNormsSquared); // [P, 1]
    const candidates = { cos: [] as tf.Tensor2D[][], dot: [] as tf.Tensor2D[][], l2: [] as tf.Tensor2D[][] };
    for (const [start, count] of tiles(vocabSize, hiddenSize)) {
      // A tile's scores are freed before the next tile is read; only its top k stay.
      const best = tf.tidy(() => {
        const tileT = model.embeddingRows(start, count, true); // [d, n]
        const norms = tf.slice(tableNormsSquared, [start], [count]); // [n]
        const dot = tf.matMul(vectors, tileT) as tf.Tensor2D; // [P, n]
        const cosine = tf.div(dot, tf.maximum(tf.mul(vectorNorms, tf.sqrt(norms)), 1e-12)) as tf.Tensor2D; // [P, n]
        const negL2 = tf.neg(tf.sqrt(tf.relu(tf.sub(tf.add(vectorNormsSquared, norms), tf.mul(dot, 2))))) as tf.Tensor2D; // [P, n]
        return [cosine, dot, negL2].map((scores) => {
          const top = tf.topk(scores, Math.min(kk, count));
          return [top.values, tf.add(top.indices, tf.scalar(start, 'int32'))] as tf.Tensor2D[]; // [P, k'] each
        });
      });
      candidates.cos.push(best[0]);
      candidates.dot.push(best[1]);
      candidates.l2.push(best[2]);
    }
    // The best kk of every tile's best: values and the vocabulary ids they came with.
    const best = (list: tf.Tensor2D[][]) => {
      const values = list.length === 1 ? list[0][0] : tf.concat(list.map((c) => c[0]), 1); // [P, tiles·k]
      const ids = list.length === 1 ? list[0][1] : tf.concat(list.map((c) => c[1]), 1);
      const top = tf.topk(values, kk); // indices [P, kk] into each row's candidates
      // Row r's candidates start at r·M in the flattened ids (a batched gather is broken on wasm).
      const m = values.shape[1];
      const flatIndex = tf.add(top.indices, tf.range(0, p * m, m, 'int32').expandDims(1)).reshape([p * kk]);
      return [tf.gather(ids.reshape([p * m]), flatIndex).reshape([p, kk]), top.values]; // [P, kk] each
    };
    const [cosIds, cosValues] = best(candidates.cos);
    const [dotIds, dotValues] = best(candidates.dot);
    const [l2Ids, negL2Values] = best(candidates.l2);
    // Mean norm of real token embeddings, for the "how far from the vocabulary" view.
    const meanTokenNorm = tf.mean(tf.sqrt(tableNormsSquared));
    return [cosIds, cosValues, dotIds, dotValues, l2Ids, tf.neg(negL2Values), vectorNorms.reshape([p]), meanTokenNorm];
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
    this.tableNorms = tableSquaredNorms(model);
  }

  private async project(vectors: tf.Tensor2D | null): Promise<Projection | null> {
    if (!vectors) return null;
    try {
      return await projectToVocabulary(vectors, this.model, this.tableNorms, this.topK);
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
    const d = this.model.config.hiddenSize;
    return {
      ids,
      source: (batch) => {
        const vectors = this.model.embed(tf.tensor2d(ids, [1, ids.length], 'int32')).reshape([ids.length, d]) as tf.Tensor2D; // [P, d]
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
