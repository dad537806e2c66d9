/**
 * The prompt library: several soft prompts for the one frozen model, side by side, and
 * batch prediction where each row names its own prompt. Rows for different prompts share
 * a batch — the point of prompt tuning at serving time: one model, many tasks, one batch.
 * Each prompt's contribution is computed once per batch for batch size 1, the rows' copies
 * are gathered by a per-row slot index, and every row is scored only among its own
 * prompt's labels.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import type { CausalLM } from '../model/types';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import type { SoftPromptMethod } from '../tuning/methods/types';
import { scoreLabels, type EncodedExample, type PromptSource } from '../tuning/objective';
import { encodeInput } from '../tuning/task';
import type { TrainConfig } from '../tuning/config';

export interface LibraryPrompt {
  id: string;
  name: string;
  method: SoftPromptMethod;
  labels: string[];
  verbalizer: Record<string, string>;
  template: string;
  maxLength: number;
  truncateSide: TrainConfig['truncateSide'];
  /** Multitask prompts: their task names, in task-id order. */
  tasks: string[];
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
  rows.forEach((row, i) => {
    const prompt = byName.get(row.prompt.trim());
    if (!prompt) {
      results[i] = { ok: false, error: `No prompt named "${row.prompt}" in the library.` };
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
    const { ids } = encodeInput(tokenizer, prompt.template, row.text, prompt.maxLength, prompt.truncateSide);
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
        const own = scores.logLikelihood[j].slice(slot.labelOffset, slot.labelOffset + slot.prompt.labels.length);
        const max = Math.max(...own);
        const exp = own.map((v) => Math.exp(v - max));
        const sum = exp.reduce((a, b) => a + b, 0);
        const best = own.indexOf(max);
        results[row] = {
          ok: true,
          prompt: slot.prompt.name,
          task: slot.prompt.tasks.length ? slot.prompt.tasks[slot.task] : null,
          predicted: slot.prompt.labels[best],
          probabilities: Object.fromEntries(slot.prompt.labels.map((l, k) => [l, exp[k] / sum])),
        };
      });
      done += batch.length;
      options.onProgress?.(done, total);
    }
  }
  return results;
}
