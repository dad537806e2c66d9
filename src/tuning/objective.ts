/**
 * The training objective and rank classification, PEFT's CAUSAL_LM convention:
 *
 *   sequence  [soft prompt][BOS][template(text)][target tokens]
 *   loss      cross-entropy on the target tokens only (every other label is -100)
 *   predict   the label whose verbalizer tokens have the highest log-likelihood (rank
 *             scoring), or — free-text targets — whether greedy decoding writes the target
 *
 * Batches are right-padded: a real token's position never depends on its neighbours'
 * lengths, so a prompt behaves the same alone, in a batch, and in PEFT. Prefix tuning's
 * per-layer keys/values come first, so positions start after them, as in PEFT.
 */
import * as tf from '@tensorflow/tfjs';
import { labelsPerPass } from '../model/memory';
import type { CausalLM, LayerKV } from '../model/types';
import type { PromptContribution, SoftPromptMethod } from './methods/types';

/** One example, tokenized. */
export interface EncodedExample {
  /** [BOS] + template(text) tokens. */
  inputIds: number[];
  /** Index of the gold label in the task's label list (-1 for a generation target). */
  label: number;
  /** Gold target tokens: the verbalized label, or a generation target. */
  targetIds: number[];
  /** Index of the example's task (multitask prompt tuning); 0 otherwise. */
  task: number;
}

/**
 * What precedes the input: a function that builds the prompt's contribution for a batch
 * inside the caller's tidy/gradient scope (the trained prompt, its discrete projection, a
 * text prompt), or null for none (zero-shot).
 */
export type PromptSource = ((batch: number, taskIds: tf.Tensor1D) => PromptContribution) | null;

export function methodPrompt(method: SoftPromptMethod): PromptSource {
  return (batch, taskIds) => method.contribution(batch, taskIds);
}

interface PaddedIds {
  ids: tf.Tensor2D; // [B, T] int32, right-padded with 0
  lengths: number[];
  width: number;
}

/**
 * Padded widths are rounded up to a multiple of this: batches then come in a handful of
 * shapes, so WebGPU compiles each kernel's shader a handful of times instead of once per
 * batch (0.5-3 s each on a software adapter), for a few extra padded positions.
 */
export const PAD_MULTIPLE = 8;

function padRows(rows: number[][], room: number): PaddedIds {
  const longest = Math.max(1, ...rows.map((r) => r.length));
  // Never pad past the positions the model has left after the prompt.
  const width = Math.max(longest, Math.min(room, Math.ceil(longest / PAD_MULTIPLE) * PAD_MULTIPLE));
  const padId = 0;
  const flat = new Int32Array(rows.length * width).fill(padId);
  rows.forEach((r, i) => flat.set(r, i * width));
  return { ids: tf.tensor2d(flat, [rows.length, width], 'int32'), lengths: rows.map((r) => r.length), width };
}

/**
 * [B, K, T] one-hot rows that pick, for each of K target slots, the hidden state that
 * predicts it (the position just before the target token). A matmul with this replaces
 * a gather, whose gradient some backends (wasm) lack.
 */
function selectionMatrix(positions: number[][], k: number, t: number): tf.Tensor3D {
  const data = new Float32Array(positions.length * k * t);
  positions.forEach((row, b) => row.forEach((pos, j) => (data[(b * k + j) * t + pos] = 1)));
  return tf.tensor3d(data, [positions.length, k, t]);
}

/** log p(target) for [N, V] logits and [N] int32 targets → [N] */
function targetLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const logp = tf.logSoftmax(logits);
  return tf.sum(tf.mul(logp, tf.oneHot(targets, logits.shape[1]).toFloat()), 1) as tf.Tensor1D;
}

function taskTensor(examples: EncodedExample[]): tf.Tensor1D {
  return tf.tensor1d(examples.map((e) => e.task), 'int32');
}

/** Runs the model on [prompt][ids] and returns final hidden states of the id positions' rows. */
function forwardWithPrompt(
  model: CausalLM,
  contribution: PromptContribution,
  ids: tf.Tensor2D,
  options: { keyMask?: tf.Tensor2D; returnKV?: boolean } = {},
) {
  let embeds = model.embed(ids); // [B, T, d]
  if (contribution.inputEmbeds) embeds = tf.concat([contribution.inputEmbeds, embeds], 1); // [B, P+T, d]
  return model.forward({ inputsEmbeds: embeds, past: contribution.pastKV, keyMask: options.keyMask, returnKV: options.returnKV });
}

/** Tokens between the start of the sequence and the first input token: prefix keys or input prompt vectors. */
function promptOffset(contribution: PromptContribution): number {
  return contribution.length;
}

/**
 * The logits [B·K, V] at the K positions before each example's target tokens, after one
 * forward over [prompt][input][target] (teacher forcing): logits only where a target is
 * scored, never B·T·V. `targets`/`mask` hold row i's token j at i·K + j (mask 0 past its end).
 */
function targetLogits(model: CausalLM, prompt: PromptSource, examples: EncodedExample[]) {
  const b = examples.length;
  const contribution: PromptContribution = prompt ? prompt(b, taskTensor(examples)) : { length: 0 };
  const rows = examples.map((e) => [...e.inputIds, ...e.targetIds]);
  const { ids, width } = padRows(rows, model.config.maxPositions - contribution.length);
  const { hidden } = forwardWithPrompt(model, contribution, ids); // [B, Pin+T, d]
  const inputPromptLength = contribution.inputEmbeds ? contribution.length : 0;
  const k = Math.max(...examples.map((e) => e.targetIds.length));
  // Target j of row i sits at inputPromptLength + len(input) + j; the state before it predicts it.
  const positions = examples.map((e) => e.targetIds.map((_, j) => inputPromptLength + e.inputIds.length + j - 1));
  const select = selectionMatrix(positions, k, inputPromptLength + width);
  const picked = tf.matMul(select, hidden); // [B, K, d]
  const logits = model.logits(picked.reshape([b * k, model.config.hiddenSize])) as tf.Tensor2D; // [B·K, V]
  const targets = new Int32Array(b * k);
  const mask = new Float32Array(b * k);
  examples.forEach((e, i) => e.targetIds.forEach((id, j) => {
    targets[i * k + j] = id;
    mask[i * k + j] = 1;
  }));
  return { logits, targets, mask, b, k };
}

/**
 * Mean cross-entropy per target token over a batch (a scalar), the quantity training
 * minimizes. Call inside tf.variableGrads / tidy.
 */
export function batchLoss(model: CausalLM, prompt: PromptSource, examples: EncodedExample[]): tf.Scalar {
  const { logits, targets, mask } = targetLogits(model, prompt, examples);
  const logp = targetLogProbs(logits, tf.tensor1d(targets, 'int32')); // [B·K]
  const count = mask.reduce((a, x) => a + x, 0);
  return tf.div(tf.neg(tf.sum(tf.mul(logp, tf.tensor1d(mask)))), count) as tf.Scalar;
}

/**
 * Target scoring (a generation task, whose targets are free text): each example against its
 * own target only, as [B, 2] still on the device — the target's summed log-likelihood, and 1
 * where greedy decoding writes it (each of its tokens the most likely one after the input and
 * the target's tokens before it). One forward per example, whatever the number of distinct
 * targets; read with readTargetScores.
 */
export function targetScores(model: CausalLM, prompt: PromptSource, examples: EncodedExample[]): tf.Tensor2D {
  return tf.tidy(() => {
    const { logits, targets, mask, b, k } = targetLogits(model, prompt, examples);
    const targetIds = tf.tensor1d(targets, 'int32');
    const maskValues = tf.tensor1d(mask);
    const logLikelihood = tf.sum(tf.mul(targetLogProbs(logits, targetIds), maskValues).reshape([b, k]), 1);
    const agrees = tf.logicalOr(tf.equal(tf.argMax(logits, 1), targetIds), tf.equal(maskValues, 0)).toFloat();
    return tf.stack([logLikelihood, tf.min(agrees.reshape([b, k]), 1)], 1) as tf.Tensor2D;
  });
}

/** Reads (and disposes) a batch's target scores from targetScores. */
export async function readTargetScores(scores: tf.Tensor2D): Promise<{ logLikelihood: number[]; writes: boolean[] }> {
  const rows = (await scores.array().finally(() => scores.dispose())) as number[][];
  return { logLikelihood: rows.map((r) => r[0]), writes: rows.map((r) => r[1] > 0.5) };
}

export interface LabelScores {
  /** [B][C] summed log-likelihood of each label's tokens. */
  logLikelihood: number[][];
  /** [B][C] whether greedy decoding after the input writes label c's tokens (the most likely token at each of them). */
  writes: boolean[][];
  /** Sum over the batch of the gold label's negative log-likelihood, and its token count. */
  goldNll: number;
  goldTokens: number;
}

/** Rank classification of one batch, read back: see labelScores. */
export async function scoreLabels(
  model: CausalLM,
  prompt: PromptSource,
  examples: EncodedExample[],
  labelIds: number[][],
): Promise<LabelScores> {
  return readLabelScores(labelScores(model, prompt, examples, labelIds), examples, labelIds);
}

/**
 * Rank classification: the log-likelihood of every label's tokens after each input, and
 * whether greedy decoding would write each label, as one [B, 2C] tensor still on the device
 * (log-likelihoods, then 0/1; dispatch several batches, then read them together with
 * readLabelScores). One forward over the inputs (keeping keys/values), then — for labels
 * longer than one token — one forward over all B·C label continuations attending to those
 * cached keys, so the input is never run once per label. Greedy decoding writes a label when
 * each of its tokens is the most likely one after the input and the label's tokens before it:
 * the same logits, so knowing it costs an argmax.
 */
export function labelScores(
  model: CausalLM,
  prompt: PromptSource,
  examples: EncodedExample[],
  labelIds: number[][],
): tf.Tensor2D {
  const b = examples.length;
  const c = labelIds.length;
  return tf.tidy(() => {
    const contribution: PromptContribution = prompt ? prompt(b, taskTensor(examples)) : { length: 0 };
    const { ids, width, lengths } = padRows(examples.map((e) => e.inputIds), model.config.maxPositions - contribution.length);
    const { hidden, kv } = forwardWithPrompt(model, contribution, ids, { returnKV: true }); // hidden [B, Pin+T, d]
    const inputPromptLength = contribution.inputEmbeds ? contribution.length : 0;
    const offset = promptOffset(contribution);

    // First label token: predicted by the last real input position.
    const last = selectionMatrix(lengths.map((n) => [inputPromptLength + n - 1]), 1, inputPromptLength + width);
    const lastHidden = tf.matMul(last, hidden).reshape([b, model.config.hiddenSize]) as tf.Tensor2D; // [B, d]
    const firstLogp = tf.logSoftmax(model.logits(lastHidden) as tf.Tensor2D); // [B, V]
    const firstIds = tf.tensor1d(labelIds.map((l) => l[0]), 'int32');
    let total = tf.gather(firstLogp, firstIds, 1) as tf.Tensor2D; // [B, C]
    let writes = tf.equal(tf.argMax(firstLogp, 1).expandDims(1), firstIds.expandDims(0)).toFloat() as tf.Tensor2D; // [B, C]

    const k = Math.max(...labelIds.map((l) => l.length));
    if (k > 1) {
      const pastLength = kv![0].k.shape[2]; // prefix + input prompt + padded input
      // Labels go a few at a time, each row's keys/values copied once per label of the pass:
      // as many as fit in a fixed share of memory (model/memory.ts), all of them for small models.
      const perPass = labelsPerPass(model.config, b, pastLength, c, k - 1);
      const passes: { logLikelihood: tf.Tensor2D; greedy: tf.Tensor2D }[] = [];
      for (let first = 0; first < c; first += perPass) {
        const labels = labelIds.slice(first, first + perPass);
        passes.push(tf.tidy(() => continuationLogLikelihood(model, kv!, labels, lengths, offset, pastLength) as unknown as tf.TensorContainer) as unknown as typeof passes[number]);
      }
      const joined = (key: 'logLikelihood' | 'greedy') => (passes.length === 1 ? passes[0][key] : tf.concat(passes.map((p) => p[key]), 1));
      total = tf.add(total, joined('logLikelihood')) as tf.Tensor2D;
      writes = tf.mul(writes, joined('greedy')) as tf.Tensor2D;
    }
    return tf.concat([total, writes], 1) as tf.Tensor2D;
  });
}

/**
 * The log-likelihood [B, C] of each label's tokens after its first, given the inputs'
 * keys/values: row b·C + c feeds label c's tokens 0..k-2 to predict its tokens 1..k-1,
 * attending to a copy of input row b's keys (its real tokens, not its padding); and [B, C]
 * 1 where each of those tokens is also the most likely one there (greedy decoding's).
 */
function continuationLogLikelihood(
  model: CausalLM, kv: LayerKV[], labelIds: number[][], lengths: number[], offset: number, pastLength: number,
): { logLikelihood: tf.Tensor2D; greedy: tf.Tensor2D } {
  const b = lengths.length;
  const c = labelIds.length;
  const steps = Math.max(...labelIds.map((l) => l.length)) - 1;
  const contIds = new Int32Array(b * c * steps);
  const contPositions = new Int32Array(b * c * steps);
  const targets = new Int32Array(b * c * steps);
  const mask = new Float32Array(b * c * steps);
  const keyMask = new Float32Array(b * c * (pastLength + steps));
  for (let i = 0; i < b; i++) {
    for (let l = 0; l < c; l++) {
      const row = i * c + l;
      const tokens = labelIds[l];
      for (let j = 0; j < steps; j++) {
        contPositions[row * steps + j] = offset + lengths[i] + j;
        if (j + 1 < tokens.length) {
          contIds[row * steps + j] = tokens[j];
          targets[row * steps + j] = tokens[j + 1];
          mask[row * steps + j] = 1;
        }
      }
      const m = row * (pastLength + steps);
      // Keys: the prefix / prompt, the row's real input tokens (not its padding), then the continuation.
      for (let s = 0; s < offset + lengths[i]; s++) keyMask[m + s] = 1;
      for (let j = 0; j < steps; j++) keyMask[m + pastLength + j] = 1;
    }
  }
  // Each input row's keys/values, once per label (rank-3 tile: see repeatKV).
  const repeatRows = (x: tf.Tensor4D) => tf.tidy(() => {
    const [, h, s, hd] = x.shape;
    return x.reshape([b, 1, h * s * hd]).tile([1, c, 1]).reshape([b * c, h, s, hd]) as tf.Tensor4D;
  });
  const past: LayerKV[] = kv.map(({ k: keys, v }) => ({ k: repeatRows(keys), v: repeatRows(v) }));
  const cont = model.forward({
    inputsEmbeds: model.embed(tf.tensor2d(contIds, [b * c, steps], 'int32')),
    past,
    keyMask: tf.tensor2d(keyMask, [b * c, pastLength + steps]),
    positionIds: tf.tensor2d(contPositions, [b * c, steps], 'int32'),
  });
  const contLogits = model.logits(cont.hidden.reshape([b * c * steps, model.config.hiddenSize])) as tf.Tensor2D;
  const targetIds = tf.tensor1d(targets, 'int32');
  const maskValues = tf.tensor1d(mask);
  const contLogp = tf.mul(targetLogProbs(contLogits, targetIds), maskValues); // [B·C·steps]
  // Greedy agrees where the target is the argmax, or where there is no target (a shorter label's padding).
  const agrees = tf.logicalOr(tf.equal(tf.argMax(contLogits, 1), targetIds), tf.equal(maskValues, 0)).toFloat();
  return {
    logLikelihood: tf.sum(contLogp.reshape([b, c, steps]), 2) as tf.Tensor2D, // [B, C]
    greedy: tf.min(agrees.reshape([b, c, steps]), 2) as tf.Tensor2D,
  };
}

/** Reads (and disposes) a batch's label scores from labelScores. */
export async function readLabelScores(scores: tf.Tensor2D, examples: EncodedExample[], labelIds: number[][]): Promise<LabelScores> {
  const both = (await scores.array().finally(() => scores.dispose())) as number[][];
  const c = labelIds.length;
  const values = both.map((row) => row.slice(0, c));
  const writes = both.map((row) => row.slice(c).map((v) => v > 0.5));
  let goldNll = 0;
  let goldTokens = 0;
  examples.forEach((e, i) => {
    if (e.label < 0) return;
    goldNll -= values[i][e.label];
    goldTokens += labelIds[e.label].length;
  });
  return { logLikelihood: values, writes, goldNll, goldTokens };
}

/** A prompt's contributions computed once and held on the device: see freezePrompt. */
export interface FrozenPrompt {
  source: PromptSource;
  dispose(): void;
}

/**
 * The method's prompt as it is now, for each of `numTasks` tasks, held as device-side
 * tensors (no round trip). Training can go on updating the variables while an evaluation
 * scores this copy: each batch gathers its rows' task prompts from it.
 */
export function freezePrompt(method: SoftPromptMethod, numTasks: number): FrozenPrompt {
  const tasks = Math.max(1, numTasks);
  let frozen: PromptContribution = { length: 0 };
  const held = (c: PromptContribution) => [...(c.inputEmbeds ? [c.inputEmbeds] : []), ...(c.pastKV ?? []).flatMap(({ k, v }) => [k, v])];
  tf.tidy(() => {
    frozen = method.contribution(tasks, tf.range(0, tasks, 1, 'int32') as tf.Tensor1D);
    held(frozen).forEach((t) => tf.keep(t));
  });
  const rowsFor = (x: tf.Tensor, taskIds: tf.Tensor1D) => tf.gather(x, taskIds);
  return {
    source: (_batch, taskIds) => ({
      length: frozen.length,
      inputEmbeds: frozen.inputEmbeds && (rowsFor(frozen.inputEmbeds, taskIds) as tf.Tensor3D),
      pastKV: frozen.pastKV?.map(({ k, v }) => ({ k: rowsFor(k, taskIds) as tf.Tensor4D, v: rowsFor(v, taskIds) as tf.Tensor4D })),
    }),
    dispose: () => tf.dispose(held(frozen)),
  };
}
