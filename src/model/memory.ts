/**
 * What a model needs in memory, before anything is allocated: its weights as the studio
 * holds them (int8 matrices, float32 norms, biases and scales), a training step's peak
 * (the activations each layer keeps for its written-out backward, the gradients tfjs keeps
 * until the backward ends, one layer's scratch, the head), and an evaluation batch's (the
 * keys and values every layer keeps for the label continuations).
 *
 * Plain arithmetic over the config, no tensor library: the engine checks a run against its
 * backend's budget with it, and the page shows the same figure as settings are typed.
 * `tests/model/memory.test.ts` holds it against peaks measured on the backends.
 */
import type { MlpRecompute } from './types';

/** The dimensions the estimate reads (a ModelConfig has them). */
export interface MemoryDims {
  modelType: string;
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  attentionBias?: boolean;
}

/** One batch as the model sees it. */
export interface BatchShape {
  batch: number;
  /** Tokens per row after padding: [BOS] + template(text) (+ the target tokens when training). */
  sequence: number;
  /** Soft-prompt vectors before the input (prompt tuning, P-tuning, multitask). */
  promptTokens: number;
  /** Per-layer key/value positions before the input (prefix tuning). */
  prefixTokens: number;
}

const FLOAT = 4;
/** For what the formulas do not name (small temporaries, views): measured peaks stay within it (tests/model/memory.test.ts). */
const MARGIN = 1.1;
/** The int8 kernels' dequantized tile (kernels/int8Rows.ts TILE_ELEMENTS), twice: the tile and its product's scratch. */
const TILE_BYTES = 2 * (1 << 20) * FLOAT;

/**
 * Scores (B·H·T·S values) computed at once, at most: past this the attention takes the
 * batch a few rows at a time (layers.ts), so a long sequence's attention never needs more
 * than a few times 64 MB.
 */
export const ATTENTION_CHUNK_ELEMENTS = 1 << 24;

/** Rows per attention chunk for these shapes. */
export function attentionChunkRows(batch: number, heads: number, queries: number, keys: number): number {
  return Math.max(1, Math.min(batch, Math.floor(ATTENTION_CHUNK_ELEMENTS / (heads * queries * keys))));
}

/** Bytes of the weights on the backend: every matrix int8 (packed four to a word), everything else float32. */
export function weightBytes(m: MemoryDims): number {
  const d = m.hiddenSize;
  const q = m.numHeads * m.headDim;
  const kv = m.numKeyValueHeads * m.headDim;
  const ffn = m.intermediateSize;
  const matrices = m.modelType === 'gpt2'
    ? [[3 * d, d], [d, d], [ffn, d], [d, ffn]]
    : [[q, d], [kv, d], [kv, d], [d, q], [ffn, d], [ffn, d], [d, ffn]];
  const int8 = (rows: number, cols: number) => rows * Math.ceil(cols / 4) * 4 + rows * FLOAT; // words + a scale per row
  let perLayer = matrices.reduce((a, [rows, cols]) => a + int8(rows, cols), 0);
  perLayer += (m.modelType === 'gpt2' ? 4 * d + 3 * d + d + ffn + d : 2 * d + (m.attentionBias ? q + 2 * kv : 0)) * FLOAT;
  const embedding = int8(m.vocabSize, d);
  const head = m.tieWordEmbeddings ? 0 : int8(m.vocabSize, d);
  const positions = m.modelType === 'gpt2' ? int8(m.maxPositions, d) : 0;
  const rope = m.modelType === 'gpt2' ? 0 : 2 * m.maxPositions * m.headDim * FLOAT;
  const finalNorm = (m.modelType === 'gpt2' ? 2 * d : d) * FLOAT;
  return m.numLayers * perLayer + embedding + head + positions + rope + finalNorm;
}

/** Positions a row occupies in the residual stream, and the keys each query sees. */
function lengths(s: BatchShape) {
  const rows = s.promptTokens + s.sequence; // T'
  return { rows, keys: s.prefixTokens + rows, tokens: s.batch * rows };
}

/** [N, ffn] pre-activations one layer's MLP keeps for its backward when nothing is recomputed: SwiGLU's gate and up, GPT-2's one. */
function mlpPreActivationsPerLayer(m: Pick<MemoryDims, 'modelType'>): number {
  return m.modelType === 'gpt2' ? 1 : 2;
}

/** All the MLP pre-activations of the stack: the most the backward can recompute. */
export function mlpPreActivations(m: Pick<MemoryDims, 'modelType' | 'numLayers'>): number {
  return mlpPreActivationsPerLayer(m) * m.numLayers;
}

/**
 * How many of layer `layer`'s pre-activations are kept (the first ones of gate, up) when
 * `recompute` of the stack's are made again: the up projections go first, one layer after
 * another, then the gates (each costs the same matmul; a fixed order gives a count one meaning).
 */
export function mlpKeptInLayer(m: Pick<MemoryDims, 'modelType' | 'numLayers'>, recompute: number, layer: number): number {
  const perLayer = mlpPreActivationsPerLayer(m);
  let kept = perLayer;
  for (let pass = 0; pass < perLayer; pass++) if (pass * m.numLayers + layer < recompute) kept--;
  return kept;
}

/**
 * Peak bytes of one training step beyond the weights: forward, loss over `targetTokens`
 * label tokens per row, and the backward to the prompt; `recompute` says how many of the
 * MLPs' pre-activations are made again in the backward instead of kept.
 */
export function trainingStepBytes(m: MemoryDims, s: BatchShape, targetTokens: number, recompute: MlpRecompute = 0): number {
  const { rows, keys, tokens: n } = lengths(s);
  const d = m.hiddenSize;
  const ffn = m.intermediateSize;
  const kv = 2 * s.batch * m.numKeyValueHeads * keys * m.headDim; // k and v, with the prefix
  const mlpKept = (mlpPreActivations(m) - Math.min(Math.max(0, recompute), mlpPreActivations(m))) * n * ffn; // over the stack
  // Kept from the forward until the backward ends: each layer's input and mid-stream, q, k, v,
  // RoPE's tables and the mask, then the gradient of its output; the MLPs' pre-activations.
  const keptPerLayer = 3 * n * d + n * m.numHeads * m.headDim + kv + 2 * s.batch * rows * m.headDim + rows * keys;
  // One layer at a time: the attention's probabilities and their gradients (a chunk of rows
  // at a time, layers.ts ATTENTION_CHUNK_ELEMENTS), the MLP's activations and gradients, and
  // a dozen [N, d] temporaries.
  const scratch = 5 * attentionChunkRows(s.batch, m.numHeads, rows, keys) * m.numHeads * rows * keys + 6 * n * ffn + 12 * n * d;
  // The input embeddings (and the prompt before them), the final norm, the logits at the targets.
  const ends = 4 * n * d + 8 * s.batch * targetTokens * m.vocabSize;
  return MARGIN * ((m.numLayers * keptPerLayer + mlpKept + scratch + ends) * FLOAT + TILE_BYTES);
}

/**
 * Peak bytes of scoring one evaluation batch against `labels` labels of at most `labelTokens`
 * tokens: the forward keeps every layer's keys and values, and labels longer than one token
 * run as continuations of all batch × labels rows over copies of them.
 */
export function evaluationBatchBytes(m: MemoryDims, s: BatchShape, labels: number, labelTokens: number): number {
  const { rows, keys, tokens: n } = lengths(s);
  const d = m.hiddenSize;
  const kvRow = 2 * m.numKeyValueHeads * keys * m.headDim; // one row's keys and values in one layer
  const cached = m.numLayers * s.batch * kvRow;
  const steps = Math.max(0, labelTokens - 1);
  const pass = steps === 0 ? 0 : labelsPerPass(m, s.batch, keys, labels, steps);
  const continuation = steps === 0 ? 0
    : m.numLayers * s.batch * pass * (kvRow + 2 * m.numKeyValueHeads * steps * m.headDim)
      + 4 * s.batch * pass * m.numHeads * steps * (keys + steps) + 6 * s.batch * pass * steps * (d + m.vocabSize + m.intermediateSize);
  const scratch = 3 * attentionChunkRows(s.batch, m.numHeads, rows, keys) * m.numHeads * rows * keys + 6 * n * m.intermediateSize + 12 * n * d;
  return MARGIN * ((cached + Math.max(continuation, scratch) + 3 * s.batch * m.vocabSize + 2 * n * d) * FLOAT + TILE_BYTES);
}

/**
 * The largest single tensor a training step or an evaluation batch makes (one WebGPU buffer
 * each): an MLP activation, a chunk of attention scores, or the logits at the targets.
 */
export function largestTensorBytes(m: MemoryDims, s: BatchShape, targetTokens: number, labels: number, labelTokens: number): number {
  const { rows, keys, tokens } = lengths(s);
  const scores = attentionChunkRows(s.batch, m.numHeads, rows, keys) * m.numHeads * rows * keys;
  const logits = Math.max(s.batch * targetTokens, s.batch * labels * Math.max(1, labelTokens - 1)) * m.vocabSize;
  return Math.max(tokens * m.intermediateSize, scores, logits, m.vocabSize * Math.ceil(m.hiddenSize / 4)) * FLOAT;
}

/** Memory the label continuations' copies of the inputs' keys/values may take in one pass. */
const CONTINUATION_KV_BYTES = 2 ** 28;

/**
 * Labels scored per continuation pass (tuning/objective.ts labelScores): each pass copies
 * every input row's keys/values once per label in it, so many labels on a large model go
 * a few at a time; a small model takes them all at once.
 */
export function labelsPerPass(m: MemoryDims, batch: number, keys: number, labels: number, steps: number): number {
  const perLabel = m.numLayers * 2 * batch * m.numKeyValueHeads * (keys + steps) * m.headDim * FLOAT;
  return Math.max(1, Math.min(labels, Math.floor(CONTINUATION_KV_BYTES / perLabel)));
}

/** Bytes as people read them: 1.4 GB, 820 MB. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${Math.round(n / 1e6)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} KB`;
  return `${n} bytes`;
}
