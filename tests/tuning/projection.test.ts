/**
 * The nearest-token projection reads the vocabulary a tile at a time and keeps each tile's
 * top k: it must give what one top k over the whole table gives. A table of three tiles
 * (rows of 300 values), on cpu and wasm, against a float64 brute force in JS.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend';
import { createRng } from '../../src/data/random';
import { DenseEmbedding } from '../../src/model/layers';
import { projectToVocabulary, tableSquaredNorms } from '../../src/tuning/projection';

const [V, D, P, K] = [9000, 300, 4, 6];
const rng = createRng(5);
const table = Float32Array.from({ length: V * D }, () => rng.next() * 2 - 1);
const vectors = Float32Array.from({ length: P * D }, () => rng.next() * 2 - 1);

/** Ids and scores of the k best rows per vector, by a score function (higher is better). */
function bruteForce(score: (v: number, row: number) => number) {
  return Array.from({ length: P }, (_, v) => {
    const scored = Array.from({ length: V }, (_, row) => ({ row, s: score(v, row) })).sort((a, b) => b.s - a.s).slice(0, K);
    return { ids: scored.map((x) => x.row), scores: scored.map((x) => x.s) };
  });
}
const dot = (v: number, row: number) => { let s = 0; for (let i = 0; i < D; i++) s += vectors[v * D + i] * table[row * D + i]; return s; };
const norm = (a: Float32Array, at: number) => { let s = 0; for (let i = 0; i < D; i++) s += a[at * D + i] ** 2; return Math.sqrt(s); };
const expected = {
  dot: bruteForce(dot),
  cosine: bruteForce((v, row) => dot(v, row) / (norm(vectors, v) * norm(table, row))),
  l2: bruteForce((v, row) => { let s = 0; for (let i = 0; i < D; i++) s += (vectors[v * D + i] - table[row * D + i]) ** 2; return -Math.sqrt(s); }),
};

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`the projection on ${backend}, a tile at a time`, () => {
    beforeAll(async () => {
      await selectBackend(backend);
    });

    it('equals one top k over the whole vocabulary, by cosine, dot product and L2', async () => {
      const embedding = new DenseEmbedding(tf.tensor2d(table, [V, D]));
      const model = { config: { vocabSize: V, hiddenSize: D }, embeddingRows: (start: number, count: number, transpose?: boolean) => embedding.rowRange(start, count, transpose) };
      expect(Math.ceil(V / Math.floor((1 << 20) / D))).toBe(3); // the tiles this test means to cross
      const before = tf.memory().numTensors;
      const norms = tableSquaredNorms(model as never);
      const v = tf.tensor2d(vectors, [P, D]);
      const projection = await projectToVocabulary(v, model as never, norms, K);
      for (const [metric, sign] of [['cosine', 1], ['dot', 1], ['l2', -1]] as const) {
        projection[metric].forEach((nearest, i) => {
          expect(nearest.ids, `${metric}, vector ${i}`).toEqual(expected[metric][i].ids);
          nearest.scores.forEach((s, j) => expect(s).toBeCloseTo(sign * expected[metric][i].scores[j], 3));
        });
      }
      expect(projection.norms.map((n) => Number(n.toFixed(3)))).toEqual(Array.from({ length: P }, (_, i) => Number(norm(vectors, i).toFixed(3))));
      tf.dispose([norms, v]);
      expect(tf.memory().numTensors).toBe(before);
      embedding.tensors().forEach((t) => t.dispose());
    });
  });
}
