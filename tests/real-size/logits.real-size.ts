/**
 * Forward logits of the real-size checkpoints against the independent numpy reference
 * (scripts/real-size-reference.py): every vocabulary entry at three positions of an 8-token
 * sequence (the first and the last embedding rows among its ids).
 *
 * int8 (what the studio runs): the studio quantizes on load and computes in float32; numpy
 * quantizes the same weights by the same rule (one float32 scale per output channel,
 * round half up) and computes in float64. Both use the very same int8 values and scales,
 * so what remains is float32 arithmetic: about 1e-7 relative per operation, accumulated over
 * 24-30 layers of sums of up to a few thousand terms. On SmolLM2-135M the logits reach |4.6|
 * (std 1.0) and the studio's (wasm) differ from numpy's by 2.1e-5 at most (int8; float 1.7e-5),
 * i.e. about 4e-6 of the largest logit; the bound 1e-4 (as tests/model/architectures.test.ts
 * uses) leaves 5× room, while one wrongly rounded int8 value, a missing bias or a wrong RoPE
 * base moves logits by 1e-3 to 1.
 *
 * float (the checkpoint's own weights widened to float32, `quantize: false`): the same bound,
 * for the models whose float32 weights fit comfortably in the wasm heap (not Qwen2.5-0.5B's
 * 2 GB). That int8 and float differ by far more (up to 0.3 here) is checked too, so the two
 * comparisons cannot both pass by comparing the same thing.
 *
 * $REAL_SIZE_BACKEND picks the backend (wasm by default; cpu works too, slowly).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { folderSource } from '../../src/cli/nodeSource';
import { selectBackend, type BackendChoice, type BackendName } from '../../src/engine/backend';
import { ModelSession } from '../../src/engine/session';
import type { CausalLM } from '../../src/model/types';
import { tf } from '../helpers';
import { EXPECTED, MODELS, hasCheckpoint, maxAbsDiff, missingNote, modelDir, reference, referenceNote, timed, type RealSizeName, type RealSizeReference } from './realSize';

const TOLERANCE = 1e-4;
/** Float32 weights above this stay out of the float comparison (the wasm heap is 4 GiB). */
const FLOAT_LIMIT_BYTES = 1.2e9;
const backendName = (process.env.REAL_SIZE_BACKEND ?? 'wasm') as BackendName;

/** [positions, V] logits of one sequence. */
function logitsAt(model: CausalLM, ids: number[], positions: number[]): Float32Array[] {
  const flat = tf.tidy(() => {
    const { hidden } = model.forward({ inputsEmbeds: model.embed(tf.tensor2d([ids], [1, ids.length], 'int32')) });
    const picked = tf.gather(hidden.reshape([ids.length, model.config.hiddenSize]), tf.tensor1d(positions, 'int32'));
    return model.logits(picked) as tf.Tensor2D;
  });
  const data = flat.dataSync() as Float32Array;
  const v = flat.shape[1];
  flat.dispose();
  return positions.map((_, i) => data.slice(i * v, (i + 1) * v));
}

function worst(got: Float32Array[], want: number[][]): number {
  return Math.max(...got.map((row, i) => maxAbsDiff(row, want[i])));
}

let backend: BackendChoice;
beforeAll(async () => {
  backend = await selectBackend(backendName);
});

for (const name of MODELS as RealSizeName[]) {
  const present = hasCheckpoint(name);
  const ref: RealSizeReference | null = present ? reference(name) : null;
  if (!present) process.stderr.write(`[real-size] skipping ${name}: ${missingNote(name)}\n`);
  else if (!ref) process.stderr.write(`[real-size] skipping ${name} logits: ${referenceNote(name)}\n`);

  describe.skipIf(!ref)(`${name} at real size, logits on ${backendName}`, () => {
    it(`int8: equal the numpy int8 reference to ${TOLERANCE} at positions ${ref?.positions.join(', ')}`, async () => {
      const session = await timed(`${name}: open int8 on ${backendName}`, () => ModelSession.open(folderSource(modelDir(name)), backend, undefined, { quantize: true }));
      try {
        const got = await timed(`${name}: int8 forward of ${ref!.ids.length} tokens`, async () => logitsAt(session.model, ref!.ids, ref!.positions));
        expect(got.map((r) => r.length)).toEqual(ref!.positions.map(() => EXPECTED[name].vocabSize));
        const diff = worst(got, ref!.int8_logits);
        const spread = ref!.int8_logits.reduce((m, row) => row.reduce((a, x) => Math.max(a, Math.abs(x)), m), 0);
        process.stderr.write(`[real-size] ${name}: int8 logits differ from numpy's by at most ${diff.toExponential(2)} (largest |logit| ${spread.toFixed(2)})\n`);
        expect(diff).toBeLessThan(TOLERANCE);
        // Not the float model's logits: quantization moves them far more than the tolerance.
        expect(worst(got, ref!.logits)).toBeGreaterThan(100 * TOLERANCE);
      } finally {
        session.dispose();
      }
    });

    const floatBytes = EXPECTED[name].parameters * 4;
    it.skipIf(floatBytes > FLOAT_LIMIT_BYTES)(`float: equal the numpy reference of the stored weights to ${TOLERANCE}`, async () => {
      const session = await timed(`${name}: open float on ${backendName}`, () => ModelSession.open(folderSource(modelDir(name)), backend, undefined, { quantize: false }));
      try {
        const got = logitsAt(session.model, ref!.ids, ref!.positions);
        const diff = worst(got, ref!.logits);
        process.stderr.write(`[real-size] ${name}: float logits differ from numpy's by at most ${diff.toExponential(2)}\n`);
        expect(diff).toBeLessThan(TOLERANCE);
      } finally {
        session.dispose();
      }
    });
  });
}
