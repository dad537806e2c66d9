/**
 * Rank classification of a prompt on a task's examples: each example is scored against
 * every label's verbalizer tokens, the most likely label is the prediction, and the
 * softmax over the labels' log-likelihoods gives the probabilities the page shows. A
 * generation task (target scoring) scores each example against its own target only:
 * whether greedy decoding writes it (exact match) and its log-likelihood. Used
 * for the trained prompt during a run, for the zero-shot and text-prompt baselines, for
 * the discrete projection, and for an imported adapter, which needs no trainer.
 */
import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../model/types';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import type { TrainConfig } from './config';
import { argmaxRows, classificationReport, type ClassificationReport } from './metrics';
import { labelScores, readLabelScores, readTargetScores, targetScores, type EncodedExample, type PromptSource } from './objective';
import { longestTarget, type PreparedTask } from './task';

/** How far an evaluation has got: `done` of `total` examples scored, `elapsedMs` since it began. */
export interface EvaluationProgress {
  done: number;
  total: number;
  elapsedMs: number;
}

export interface Evaluation {
  step: number;
  loss: number;
  report: ClassificationReport;
  /** Predicted label index per scored validation example; with target scoring the gold one where greedy writes it, else -1. */
  predictions: number[];
  /** Label probabilities per scored example (softmax over label log-likelihoods); empty rows with target scoring. */
  probabilities: number[][];
  /** Target scoring only: each example's target log-likelihood (nats, summed over its tokens). */
  targetLogLikelihood?: number[];
  /**
   * The share of labelled examples after which greedy decoding writes their label's tokens —
   * what `model.generate` gives, and how the paper scored T5 (exact match); null with none.
   */
  generationAccuracy: number | null;
  examples: number;
}

/** Softmax of one example's label log-likelihoods: the label probabilities. */
export function labelProbabilities(logLikelihoods: readonly number[]): number[] {
  const max = Math.max(...logLikelihoods);
  const exp = logLikelihoods.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => v / sum);
}

export class Evaluator {
  constructor(
    readonly model: CausalLM,
    readonly tokenizer: TextTokenizer,
    readonly task: PreparedTask,
    private readonly options: Pick<TrainConfig, 'evalBatchSize' | 'maxEvalExamples'>,
  ) {}

  /** Validation examples scored at each evaluation: the first maxEvalExamples of a fixed order. */
  evaluationSet(): EncodedExample[] {
    const n = this.options.maxEvalExamples;
    return n > 0 ? this.task.validation.slice(0, n) : this.task.validation;
  }

  /**
   * Rank-classification metrics of a prompt source on `examples` (default: the evaluation set),
   * labelled with `step`. `onProgress` hears after each batch is dispatched: where ops compute
   * as they are issued (wasm, cpu) that batch is then scored.
   */
  async evaluate(prompt: PromptSource, examples = this.evaluationSet(), step = 0, onProgress?: (p: EvaluationProgress) => void): Promise<Evaluation> {
    if (this.task.scoring === 'target') return this.evaluateTargets(prompt, examples, step, onProgress);
    const labels = this.task.labels;
    const { batches, dispatched } = this.dispatch(examples, (batch) => labelScores(this.model, prompt, batch, this.task.labelIds), onProgress);
    const results = await Promise.all(dispatched.map((scores, i) => readLabelScores(scores, batches[i], this.task.labelIds)));
    const all = results.flatMap((r) => r.logLikelihood);
    const nll = results.reduce((a, r) => a + r.goldNll, 0);
    const tokens = results.reduce((a, r) => a + r.goldTokens, 0);
    // An example competes only among its own task's labels.
    examples.forEach((e, i) => {
      const allowed = this.task.taskLabels[e.task] ?? this.task.taskLabels[0];
      if (allowed.length < labels.length) all[i] = all[i].map((v, j) => (allowed.includes(j) ? v : -Infinity));
    });
    const predictions = argmaxRows(all);
    const writes = results.flatMap((r) => r.writes);
    const labelled = examples.flatMap((e, i) => (e.label >= 0 ? [writes[i][e.label]] : []));
    return {
      step,
      loss: tokens ? nll / tokens : 0,
      report: classificationReport(labels, examples.map((e) => e.label), predictions),
      predictions,
      probabilities: all.map(labelProbabilities),
      generationAccuracy: labelled.length ? labelled.filter(Boolean).length / labelled.length : null,
      examples: examples.length,
    };
  }

  /** Target scoring: exact match (greedy writes the example's own target) and the targets' loss. */
  private async evaluateTargets(prompt: PromptSource, examples: EncodedExample[], step: number, onProgress?: (p: EvaluationProgress) => void): Promise<Evaluation> {
    const { dispatched } = this.dispatch(examples, (batch) => targetScores(this.model, prompt, batch), onProgress);
    const results = await Promise.all(dispatched.map(readTargetScores));
    const logLikelihood = results.flatMap((r) => r.logLikelihood);
    const writes = results.flatMap((r) => r.writes);
    const tokens = examples.reduce((a, e) => a + e.targetIds.length, 0);
    const exact = examples.length ? writes.filter(Boolean).length / examples.length : 0;
    return {
      step,
      loss: tokens ? -logLikelihood.reduce((a, v) => a + v, 0) / tokens : 0,
      // Neither a confusion matrix nor per-class figures: over thousands of free-text targets they say nothing.
      report: { accuracy: exact, macroF1: Number.NaN, perClass: [], confusion: [], count: examples.length },
      predictions: examples.map((e, i) => (writes[i] ? e.label : -1)),
      probabilities: examples.map(() => []),
      targetLogLikelihood: logLikelihood,
      generationAccuracy: examples.length ? exact : null,
      examples: examples.length,
    };
  }

  /** Every batch dispatched before any is read: one round trip per evaluation, not one per batch. */
  private dispatch(examples: EncodedExample[], score: (batch: EncodedExample[]) => tf.Tensor2D, onProgress?: (p: EvaluationProgress) => void) {
    const started = performance.now();
    const batches: EncodedExample[][] = [];
    for (let i = 0; i < examples.length; i += this.options.evalBatchSize) batches.push(examples.slice(i, i + this.options.evalBatchSize));
    const dispatched: tf.Tensor2D[] = [];
    try {
      let done = 0;
      for (const batch of batches) {
        dispatched.push(score(batch));
        done += batch.length;
        onProgress?.({ done, total: examples.length, elapsedMs: performance.now() - started });
      }
    } catch (e) {
      tf.dispose(dispatched);
      throw e;
    }
    return { batches, dispatched };
  }

  /** A plain-text prompt in place of the soft prompt (the "text prompt" baseline). */
  textPrompt(text: string): PromptSource {
    const ids = this.tokenizer.encode(text);
    if (ids.length === 0) return null;
    return (batch) => ({
      inputEmbeds: this.model.embed(tf.tensor2d(ids, [1, ids.length], 'int32')).tile([batch, 1, 1]) as tf.Tensor3D,
      length: ids.length,
    });
  }

  /**
   * The instruction used for the text-prompt baseline: the init text, or one listing the
   * labels — within the positions the model has left beside the longest input and label
   * (a 40-label list or a 1,000-character init text would otherwise run past the model's
   * last position). A list that does not fit names the labels that do and counts the rest;
   * a text that does not fit is cut, ending in "…". `baselineNote` says when either happened.
   */
  baselineInstruction(initText: string): string {
    return this.fittedInstruction(initText).text;
  }

  /** A sentence for the user when the baseline instruction had to be shortened, else null. */
  baselineNote(initText: string): string | null {
    const { text, full, room } = this.fittedInstruction(initText);
    if (text === full) return null;
    return `The text-prompt baseline's instruction was shortened to fit the model's ${this.model.config.maxPositions} positions `
      + `(${room} tokens are left beside the max length and the longest label): "${text}".`;
  }

  private fittedInstruction(initText: string): { text: string; full: string; room: number } {
    const labels = this.task.labels;
    const room = this.model.config.maxPositions - this.task.maxLength - longestTarget(this.task.labelIds);
    const given = initText.trim();
    // Free-text targets have no list to name: without an init text there is no instruction to try.
    if (!given && this.task.scoring === 'target') return { text: '', full: '', room: Math.max(0, room) };
    const full = given || `Classify the text as ${labels.join(', ')}.`;
    const fits = (text: string) => this.tokenizer.encode(text).length <= room;
    // Every character is at least one token: a text longer than the room in characters never fits whole.
    if (room <= 0) return { text: '', full, room: Math.max(0, room) };
    if (full.length <= room * 16 && fits(full)) return { text: full, full, room };
    if (!given) {
      for (let k = labels.length - 1; k >= 1; k--) {
        const text = `Classify the text as ${labels.slice(0, k).join(', ')} or one of ${labels.length - k} other labels.`;
        if (text.length <= room * 16 && fits(text)) return { text, full, room };
      }
    }
    const ids = this.tokenizer.encode(full.slice(0, room * 16));
    for (let keep = Math.min(ids.length, room - 1); keep > 0; keep--) {
      const text = `${this.tokenizer.decode(ids.slice(0, keep)).trim()}…`;
      if (fits(text)) return { text, full, room };
    }
    return { text: '', full, room };
  }
}
