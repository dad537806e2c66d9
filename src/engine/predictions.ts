/**
 * Predictions, from a trained or imported prompt or from the prompt library: label
 * probabilities for texts typed in the playground, the validation predictions as a CSV,
 * and batch prediction over a CSV whose rows each name their prompt.
 *
 * Rows for different prompts share a batch — the point of prompt tuning at serving time:
 * one model, many tasks, one batch. Each prompt's contribution is computed once per batch
 * for batch size 1, the rows' copies are gathered by a per-row slot index, and every row
 * is scored only among its own prompt's labels.
 */
import * as tf from '@tensorflow/tfjs';
import Papa from 'papaparse';
import { readCsv, type Dataset } from '../data';
import { StudioError } from '../errors';
import { generate } from '../model/generate';
import type { CausalLM, LayerKV } from '../model/types';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import type { Scoring, TrainConfig } from '../tuning/config';
import { labelProbabilities } from '../tuning/evaluator';
import type { SoftPromptMethod } from '../tuning/methods/types';
import { methodPrompt, scoreLabels, type EncodedExample, type PromptSource } from '../tuning/objective';
import { encodeInput } from '../tuning/task';
import type { BatchPredictArgs, Continuation, Prediction, PromptVariant } from './api';
import type { ModelSession } from './session';
import { promptFor, type ActiveRun } from './run';

/** Rows as CSV for a spreadsheet: formula-looking cells (= + - @ tab CR) prefixed with ' so they show as text. */
function predictionsCsv(rows: Record<string, unknown>[]): string {
  return Papa.unparse(rows, { escapeFormulae: true, newline: '\r\n' });
}

/** What an empty text gets instead of a prediction (the model would still rank the labels, confidently, on nothing). */
const EMPTY_TEXT = 'The text is empty, so there is nothing to classify.';

/** The most tokens a prediction's continuation may ask for: a label's words, not an essay. */
export const MAX_CONTINUATION_TOKENS = 64;

/**
 * Label probabilities of each text under each prompt variant of the current prompt (for a
 * multitask prompt, task `task`'s, among that task's labels: the others get 0), and where
 * `continueTokens` > 0, what the model writes after it with each (greedy, that many tokens
 * at most).
 */
export async function predictTexts(
  run: ActiveRun, session: Pick<ModelSession, 'model' | 'tokenizer'>, texts: string[], variants: PromptVariant[], continueTokens = 0, task = 0,
): Promise<Prediction[]> {
  const { task: prepared } = run;
  if (texts.some((t) => t.trim() === '')) throw new StudioError('data', EMPTY_TEXT, 'Type or load a text to classify.');
  if (!Number.isInteger(continueTokens) || continueTokens < 0 || continueTokens > MAX_CONTINUATION_TOKENS) {
    throw new StudioError('settings', `A continuation is 0 to ${MAX_CONTINUATION_TOKENS} tokens long, not ${continueTokens}.`);
  }
  const taskCount = prepared.taskLabels.length;
  if (!Number.isInteger(task) || task < 0 || task >= taskCount) {
    throw new StudioError('settings', taskCount > 1 ? `This prompt has tasks 0 to ${taskCount - 1}, not ${task}.` : `This prompt has one task, not task ${task}.`);
  }
  const examples = texts.map((text) => ({
    inputIds: encodeInput(session.tokenizer, prepared.template, text, prepared.maxLength, run.info.config.truncateSide).ids,
    label: -1, targetIds: [], task,
  }));
  const out: Prediction[] = texts.map((text) => ({ text, probabilities: {} }));
  // Free-text targets have no labels to rank: only what the model writes says anything.
  const ranked = prepared.scoring === 'rank';
  for (const variant of variants) {
    const prompt = await promptFor(run, variant);
    if (ranked) (await run.evaluator.evaluate(prompt, examples)).probabilities.forEach((p, i) => (out[i].probabilities[variant] = p));
    if (continueTokens === 0) continue;
    for (const [i, example] of examples.entries()) {
      (out[i].continuations ??= {})[variant] = await continueAfter(session.model, session.tokenizer, prompt, example.inputIds, continueTokens, task);
    }
  }
  return out;
}

/**
 * What the model writes after `inputIds` with this prompt before them (task `task`'s, for a
 * multitask prompt): greedy decoding through the KV cache, the prompt's vectors ahead of
 * the tokens or, for prefix tuning, its keys and values as the cache's first entries —
 * what PEFT's `model.generate` does with the same adapter.
 */
export async function continueAfter(
  model: CausalLM, tokenizer: TextTokenizer, prompt: PromptSource, inputIds: number[], maxNewTokens: number, task = 0,
): Promise<Continuation> {
  const contribution = tf.tidy(() => {
    const c = prompt ? prompt(1, tf.tensor1d([task], 'int32')) : { length: 0 };
    return { embeds: c.inputEmbeds?.reshape([c.length, model.config.hiddenSize]), kv: c.pastKV } as unknown as tf.TensorContainer;
  }) as unknown as { embeds?: tf.Tensor2D; kv?: LayerKV[] };
  try {
    const ids = await generate(model, inputIds, { maxNewTokens, prefixEmbeds: contribution.embeds, prefixKV: contribution.kv });
    // Decoded after the input, not alone: a tokenizer drops the leading space of a text's first token.
    const before = tokenizer.decode(inputIds, { skipSpecialTokens: true });
    const whole = tokenizer.decode([...inputIds, ...ids], { skipSpecialTokens: true });
    const text = whole.startsWith(before) ? whole.slice(before.length) : tokenizer.decode(ids, { skipSpecialTokens: true });
    const last = ids[ids.length - 1];
    return { ids, text, ended: last !== undefined && model.config.eosTokenIds.includes(last) };
  } finally {
    tf.dispose([contribution.embeds ?? [], ...(contribution.kv ?? []).flatMap((c) => [c.k, c.v])]);
  }
}

/** The validation predictions of the run's last evaluation, as CSV. */
export function validationPredictionsCsv(run: ActiveRun, dataset: Dataset | null, dataFileName: string): { fileName: string; csv: string } {
  const e = run.lastEvaluation;
  if (!e || !dataset) throw new StudioError('training', 'There are no validation predictions yet.', 'Train until the first evaluation.');
  const byId = new Map(dataset.examples.map((x) => [x.id, x]));
  const base = dataFileName.replace(/\.[^.]+$/, '') || 'data';
  const fileName = `${base}-predictions-step${e.step}.csv`;
  if (run.task.scoring === 'target') {
    // Each row against its own target: does greedy decoding write it, and its negative log-likelihood
    // (nats; positive, so a spreadsheet does not read a leading minus as a formula to escape).
    return {
      fileName,
      csv: predictionsCsv(e.predictions.map((predicted, i) => {
        const example = byId.get(run.task.validationIds[i])!;
        return {
          line: example.line, text: example.text, target: example.label, writes_target: predicted >= 0 ? 'yes' : 'no',
          target_nll: e.targetLogLikelihood ? (-e.targetLogLikelihood[i]).toFixed(6) : '',
        };
      })),
    };
  }
  const rows = e.predictions.map((predicted, i) => {
    const example = byId.get(run.task.validationIds[i])!;
    return {
      line: example.line,
      text: example.text,
      label: example.label,
      predicted: run.task.labels[predicted],
      correct: example.label === run.task.labels[predicted] ? 'yes' : 'no',
      ...Object.fromEntries(run.task.labels.map((l, j) => [`p(${l})`, e.probabilities[i][j].toFixed(6)])),
    };
  });
  return { fileName, csv: predictionsCsv(rows) };
}

export interface LibraryPrompt {
  id: string;
  name: string;
  method: SoftPromptMethod;
  labels: string[];
  verbalizer: Record<string, string>;
  template: string;
  maxLength: number;
  truncateSide: TrainConfig['truncateSide'];
  /** Multitask prompts: their task names, in task-id order, and each task's labels (indices into labels). */
  tasks: string[];
  taskLabels?: number[][];
  /** 'target': trained on free-text targets, not ranked: a row's prediction is what greedy decoding writes. */
  scoring?: Scoring;
  /** The longest target in tokens: how much a free-text prompt's prediction writes. */
  targetTokens?: number;
}

export interface MixedRow {
  text: string;
  /** A prompt's name or id. */
  prompt: string;
  /** For a multitask prompt: the task's name (default: its first task). */
  task?: string;
}

export type MixedResult =
  | { ok: true; prompt: string; task: string | null; predicted: string; probabilities: Record<string, number> }
  | { ok: false; error: string };

interface Slot {
  prompt: LibraryPrompt;
  task: number;
  labelOffset: number;
}

/** Contributions of one (prompt, task) per slot, batched by the shape they add. */
function slotGroupKey(method: SoftPromptMethod): string {
  // Prefix methods add keys/values, the others input embeddings; both by their length.
  return `${method.kind === 'prefix' ? 'kv' : 'embeds'}:${method.numVirtualTokens}`;
}

/** A PromptSource whose row i uses slot `rowSlots[i]` (slots of one group). */
function gatheredSource(slots: Slot[]): PromptSource {
  return (_batch, slotIds) => {
    const parts = slots.map((s) => s.prompt.method.contribution(1, tf.tensor1d([s.task], 'int32')));
    const length = parts[0].length;
    if (parts[0].inputEmbeds) {
      const stacked = tf.concat(parts.map((p) => p.inputEmbeds!), 0);
      return { inputEmbeds: tf.gather(stacked, slotIds) as tf.Tensor3D, length };
    }
    const layers = parts[0].pastKV!.length;
    return {
      length,
      pastKV: Array.from({ length: layers }, (_, l) => ({
        k: tf.gather(tf.concat(parts.map((p) => p.pastKV![l].k), 0), slotIds) as tf.Tensor4D,
        v: tf.gather(tf.concat(parts.map((p) => p.pastKV![l].v), 0), slotIds) as tf.Tensor4D,
      })),
    };
  };
}

export async function predictMixed(
  model: CausalLM,
  tokenizer: TextTokenizer,
  library: readonly LibraryPrompt[],
  rows: readonly MixedRow[],
  options: { batchSize: number; onProgress?: (done: number, total: number) => void },
): Promise<MixedResult[]> {
  if (library.length === 0) throw new StudioError('library', 'The prompt library is empty.', 'Train a prompt and add it, or import an adapter.');
  const byName = new Map<string, LibraryPrompt>();
  for (const p of library) {
    byName.set(p.id, p);
    byName.set(p.name, p);
  }
  const results: MixedResult[] = new Array(rows.length);
  // Rows resolved to a slot, per shape group.
  const groups = new Map<string, { slots: Slot[]; slotIndex: Map<string, number>; rows: { row: number; example: EncodedExample }[] }>();
  // Rows of free-text prompts: nothing to rank, their prediction is what greedy decoding writes.
  const written: { row: number; prompt: LibraryPrompt; task: number; ids: number[] }[] = [];
  rows.forEach((row, i) => {
    const prompt = byName.get(row.prompt.trim());
    if (!prompt) {
      results[i] = { ok: false, error: `No prompt named "${row.prompt}" in the library.` };
      return;
    }
    if ((row.text ?? '').trim() === '') {
      results[i] = { ok: false, error: EMPTY_TEXT };
      return;
    }
    let task = 0;
    if (prompt.tasks.length && row.task !== undefined && row.task.trim() !== '') {
      task = prompt.tasks.indexOf(row.task.trim());
      if (task < 0) {
        results[i] = { ok: false, error: `The prompt "${prompt.name}" has no task "${row.task}" (it has ${prompt.tasks.join(', ')}).` };
        return;
      }
    }
    const { ids } = encodeInput(tokenizer, prompt.template, row.text, prompt.maxLength, prompt.truncateSide);
    if (prompt.scoring === 'target') {
      written.push({ row: i, prompt, task, ids });
      return;
    }
    const key = slotGroupKey(prompt.method);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { slots: [], slotIndex: new Map(), rows: [] }));
    const slotKey = `${prompt.id}\u0000${task}`;
    let slot = group.slotIndex.get(slotKey);
    if (slot === undefined) {
      slot = group.slots.length;
      group.slotIndex.set(slotKey, slot);
      group.slots.push({ prompt, task, labelOffset: 0 });
    }
    group.rows.push({ row: i, example: { inputIds: ids, label: -1, targetIds: [], task: slot } });
  });

  let done = 0;
  const total = rows.length;
  for (const group of groups.values()) {
    // Every label of every prompt in the group is scored; each row keeps its own prompt's.
    const labelIds: number[][] = [];
    for (const slot of group.slots) {
      slot.labelOffset = labelIds.length;
      labelIds.push(...slot.prompt.labels.map((l) => tokenizer.encode(slot.prompt.verbalizer[l])));
    }
    const source = gatheredSource(group.slots);
    for (let start = 0; start < group.rows.length; start += options.batchSize) {
      const batch = group.rows.slice(start, start + options.batchSize);
      const scores = await scoreLabels(model, source, batch.map((b) => b.example), labelIds);
      batch.forEach(({ row, example }, j) => {
        const slot = group.slots[example.task];
        // A multitask prompt's row competes among its task's labels only (the others get probability 0).
        const allowed = slot.prompt.taskLabels?.[slot.task];
        const own = scores.logLikelihood[j].slice(slot.labelOffset, slot.labelOffset + slot.prompt.labels.length)
          .map((v, k) => (!allowed || allowed.includes(k) ? v : -Infinity));
        const probabilities = labelProbabilities(own);
        results[row] = {
          ok: true,
          prompt: slot.prompt.name,
          task: slot.prompt.tasks.length ? slot.prompt.tasks[slot.task] : null,
          predicted: slot.prompt.labels[own.indexOf(Math.max(...own))],
          probabilities: Object.fromEntries(slot.prompt.labels.map((l, k) => [l, probabilities[k]])),
        };
      });
      done += batch.length;
      options.onProgress?.(done, total);
    }
  }
  for (const { row, prompt, task, ids } of written) {
    const continuation = await continueAfter(model, tokenizer, methodPrompt(prompt.method), ids, prompt.targetTokens ?? MAX_CONTINUATION_TOKENS, task);
    results[row] = {
      ok: true, prompt: prompt.name, task: prompt.tasks.length ? prompt.tasks[task] : null, predicted: continuation.text.trim(), probabilities: {},
    };
    options.onProgress?.(++done, total);
  }
  return results;
}

/**
 * Batch prediction over a CSV whose rows name their prompt (and, for multitask prompts,
 * their task), through the library: the results as CSV.
 */
export async function batchPredictCsv(
  model: CausalLM,
  tokenizer: TextTokenizer,
  library: readonly LibraryPrompt[],
  args: BatchPredictArgs,
  onProgress?: (done: number, total: number) => void,
): Promise<{ fileName: string; csv: string; rows: number; failed: number }> {
  const table = await readCsv(args.bytes);
  const column = (name: string | undefined, what: string, required: boolean) => {
    if (name === undefined || name === '') {
      if (required) throw new StudioError('csv', `Choose the ${what} column.`);
      return -1;
    }
    const i = table.columns.indexOf(name);
    if (i < 0) throw new StudioError('csv', `${args.fileName} has no column "${name}" (its columns: ${table.columns.join(', ')}).`);
    return i;
  };
  const textAt = column(args.textColumn, 'text', true);
  const promptAt = column(args.promptColumn, 'prompt', args.prompt === undefined);
  const taskAt = column(args.taskColumn, 'task', false);
  if (table.rows.length === 0) throw new StudioError('csv', `${args.fileName} has no data rows.`);
  const rows: MixedRow[] = table.rows.map((r) => ({
    text: r[textAt],
    prompt: promptAt >= 0 ? r[promptAt] : args.prompt!,
    ...(taskAt >= 0 ? { task: r[taskAt] } : {}),
  }));
  const results = await predictMixed(model, tokenizer, library, rows, { batchSize: args.batchSize ?? 16, onProgress });
  const labelColumns = [...new Set(library.flatMap((p) => (p.scoring === 'target' ? [] : p.labels)))];
  const out = table.rows.map((r, i) => {
    const res = results[i];
    return {
      line: table.lineNumbers[i],
      text: r[textAt],
      prompt: rows[i].prompt,
      task: res.ok ? res.task ?? '' : rows[i].task ?? '',
      predicted: res.ok ? res.predicted : '',
      ...Object.fromEntries(labelColumns.map((l) => [`p(${l})`, res.ok && l in res.probabilities ? res.probabilities[l].toFixed(6) : ''])),
      error: res.ok ? '' : res.error,
    };
  });
  const base = args.fileName.replace(/\.[^.]+$/, '') || 'rows';
  return { fileName: `${base}-predictions.csv`, csv: predictionsCsv(out), rows: out.length, failed: results.filter((r) => !r.ok).length };
}
