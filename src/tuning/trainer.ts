/**
 * The training loop: one soft-prompt method, one frozen model, one prepared task.
 *
 * A step: sample a batch (seeded), compute the loss and the gradient of the prompt's
 * variables only (the model's weights are constants, never in the tape), average over
 * accumulated micro-batches, clip the global norm, update — unless the loss or gradient
 * is not finite, in which case the update is skipped on the device and the run stops
 * with the last good state intact. Every N steps: project onto the vocabulary, evaluate,
 * checkpoint. The loop yields between steps so pause/stop requests get through.
 *
 * Nothing waits on the device inside the loop: step N+1 is dispatched before step N's
 * loss is read (so the GPU never idles on a round trip), and the projection, evaluation
 * and checkpoint of step N run in the background on device-side copies taken at step N
 * while training goes on. The numbers are exactly those of a loop that waits for each
 * (tests/tuning/overlap.test.ts). Early stopping is the one exception: it needs its
 * evaluation before deciding whether there is a next step.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import { createRng, shuffleInPlace, type Rng } from '../data/random';
import type { CausalLM } from '../model/types';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import type { TrainConfig } from './config';
import { initialPrompt } from './init';
import { argmaxRows, classificationReport, type ClassificationReport } from './metrics';
import { MultitaskPromptTuning } from './methods/multitask';
import { PrefixTuning } from './methods/prefix';
import { PromptTuning } from './methods/prompt';
import { PTuning } from './methods/ptuning';
import type { PromptContribution, SoftPromptMethod } from './methods/types';
import { batchLoss, freezePrompt, labelScores, methodPrompt, readLabelScores, type EncodedExample, type PromptSource } from './objective';
import { createOptimizer, DEFAULT_OPTIMIZER, type CapturedOptimizerState, type Optimizer, type OptimizerState } from './optimizers';
import { nearestTokenIds, projectToVocabulary, tableSquaredNorms, type Projection } from './projection';
import type { PreparedTask } from './task';

export interface StepEvent {
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
  stepMs: number;
  elapsedMs: number;
  etaMs: number;
}

export interface Evaluation {
  step: number;
  loss: number;
  report: ClassificationReport;
  /** Predicted label index per scored validation example. */
  predictions: number[];
  /** Label probabilities per scored example (softmax over label log-likelihoods). */
  probabilities: number[][];
  examples: number;
}

export interface ProjectionEvent {
  step: number;
  projection: Projection;
  /** Display strings for every id that appears in the projection. */
  tokens: Record<number, string>;
}

export interface RunSnapshot {
  step: number;
  variables: { shape: number[]; data: Float32Array }[];
  optimizer: OptimizerState;
  samplerRngState: number;
  samplerEpochStartState: number;
  samplerCursor: number;
  bestStep: number | null;
}

export interface TrainerEvents {
  onStep?(e: StepEvent): void;
  onEvaluation?(e: Evaluation): void;
  onProjection?(e: ProjectionEvent): void;
  onCheckpoint?(s: RunSnapshot): void | Promise<void>;
  onLog?(message: string): void;
}

export interface RunSummary {
  stoppedBy: 'completed' | 'user' | 'early-stopping' | 'non-finite-loss';
  step: number;
  bestStep: number | null;
  message: string;
}

/** Pause/resume/stop, set from outside the loop (the worker's message handler). */
export class RunControl {
  paused = false;
  stopped = false;
  private wake: (() => void) | null = null;
  private reachedPause: (() => void)[] = [];

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Yields to the event loop once, so pause and stop requests get through. */
  async yield(): Promise<void> {
    await new Promise<void>((r) => setTimeout(r, 0));
  }

  /**
   * Resolves once the loop has stopped at a pause: the steps already dispatched have landed
   * and their events are out, so "paused at step N" is exact. (Or never: see StudioEngine.pause.)
   */
  whenPaused(): Promise<void> {
    return new Promise<void>((r) => this.reachedPause.push(r));
  }

  async waitWhilePaused(): Promise<void> {
    if (this.paused && !this.stopped) {
      this.reachedPause.splice(0).forEach((r) => r());
    }
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
  }
}

/** A step dispatched to the device whose loss and gradient norm are on their way back. */
interface PendingStep {
  /** 0-based: the step that makes `step` index + 1. */
  index: number;
  lr: number;
  tokens: number;
  started: number;
  /** Host-side state from before the dispatch, to withdraw the step. */
  before: { sampler: SamplerState; optimizerStep: number };
  values: Promise<[tf.TypedArray, tf.TypedArray]>;
}

/** A step's projection, evaluation and checkpoint, from device-side copies taken at that step. */
interface BoundaryWork {
  step: number;
  evaluates: boolean;
  run(events: TrainerEvents): Promise<void>;
  dispose(): void;
}

interface SamplerState {
  epochStartState: number;
  cursor: number;
  rngState: number;
}

/** Epoch-based sampling without replacement; its state is three numbers, so runs resume exactly. */
class BatchSampler {
  private order: number[] = [];
  private cursor = 0;
  private epochStartState: number;

  constructor(private readonly size: number, private readonly rng: Rng) {
    this.epochStartState = rng.state();
    this.reshuffle();
  }

  private reshuffle(): void {
    this.epochStartState = this.rng.state();
    this.order = shuffleInPlace(Array.from({ length: this.size }, (_, i) => i), this.rng);
    this.cursor = 0;
  }

  next(n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      if (this.cursor >= this.order.length) this.reshuffle();
      out.push(this.order[this.cursor++]);
    }
    return out;
  }

  state(): SamplerState {
    return { epochStartState: this.epochStartState, cursor: this.cursor, rngState: this.rng.state() };
  }

  restore(epochStartState: number, cursor: number): void {
    this.rng.setState(epochStartState);
    this.reshuffle();
    this.cursor = cursor;
  }
}

export function createMethod(cfg: TrainConfig, initial: Float32Array, model: CausalLM, numTasks: number): SoftPromptMethod {
  const mc = model.config;
  const encoderHiddenSize = cfg.encoderHiddenSize || mc.hiddenSize;
  switch (cfg.method) {
    case 'prompt':
      return new PromptTuning(initial, cfg.numVirtualTokens, mc.hiddenSize);
    case 'ptuning-mlp':
    case 'ptuning-lstm':
      return new PTuning(initial, {
        numVirtualTokens: cfg.numVirtualTokens,
        encoder: cfg.method === 'ptuning-mlp' ? 'MLP' : 'LSTM',
        encoderHiddenSize,
        encoderNumLayers: cfg.encoderNumLayers,
        seed: cfg.seed,
      }, mc.hiddenSize);
    case 'prefix':
      return new PrefixTuning(initial, {
        numVirtualTokens: cfg.numVirtualTokens, prefixProjection: cfg.prefixProjection, encoderHiddenSize, seed: cfg.seed,
      }, mc);
    case 'multitask':
      return new MultitaskPromptTuning(initial, {
        numVirtualTokens: cfg.numVirtualTokens, numTasks: Math.max(1, numTasks), numRanks: cfg.numRanks, seed: cfg.seed,
      }, mc.hiddenSize);
  }
}

export class Trainer {
  readonly method: SoftPromptMethod;
  private readonly optimizer: Optimizer;
  private readonly sampler: BatchSampler;
  private readonly tableNorms: tf.Tensor1D;
  step = 0;
  private bestAccuracy = -Infinity;
  private bestLoss = Infinity;
  bestStep: number | null = null;
  private bestValues: Float32Array[] | null = null;
  private evaluationsSinceBest = 0;
  private elapsedMs = 0;
  private averageStepMs = 0;
  /** 1 while every step of this run had a finite loss and gradient; updates apply only then. */
  private readonly healthy: tf.Variable;
  /** Background boundary work, in order; never rejects (errors land in backgroundError). */
  private background: Promise<void> = Promise.resolve();
  private backgroundError: unknown = null;
  private queued = 0;
  private readonly heldInFlight = { tensors: 0, bytes: 0 };
  private patienceRanOut = false;
  /**
   * Dispatch the next step before reading this one's loss, and run projections,
   * evaluations and checkpoints on copies while training goes on. The numbers are the
   * same either way (tests/tuning/overlap.test.ts); off is for measuring what it buys.
   */
  overlap = true;

  private constructor(
    readonly model: CausalLM,
    readonly tokenizer: TextTokenizer,
    readonly task: PreparedTask,
    readonly config: TrainConfig,
    method: SoftPromptMethod,
  ) {
    this.method = method;
    this.optimizer = createOptimizer(method.variables, { ...DEFAULT_OPTIMIZER[config.optimizer], weightDecay: config.weightDecay });
    this.sampler = new BatchSampler(task.train.length, createRng(config.seed ^ 0x243f6a88));
    this.tableNorms = tableSquaredNorms(model.embeddingTable());
    const one = tf.scalar(1);
    this.healthy = tf.variable(one, false);
    one.dispose();
  }

  static async create(model: CausalLM, tokenizer: TextTokenizer, task: PreparedTask, config: TrainConfig): Promise<Trainer> {
    const initial = await initialPrompt(config.numVirtualTokens, model.embeddingTable(), tokenizer, {
      kind: config.init,
      text: config.initText,
      labels: task.labelIds.map((_, i) => task.verbalizer[task.labels[i]]),
      tokenCounts: task.tokenCounts,
      seed: config.seed,
    });
    const method = createMethod(config, initial, model, task.tasks.length);
    return new Trainer(model, tokenizer, task, config, method);
  }

  /** A trainer around a method that already exists (an imported adapter). */
  static fromMethod(model: CausalLM, tokenizer: TextTokenizer, task: PreparedTask, config: TrainConfig, method: SoftPromptMethod): Trainer {
    return new Trainer(model, tokenizer, task, config, method);
  }

  /**
   * Tensors and bytes held by work still in flight (a dispatched step's loss and gradient
   * norm, a boundary's copies): a leak check subtracts them from tf.memory().
   */
  get inFlight(): { tensors: number; bytes: number } {
    return { ...this.heldInFlight };
  }

  private hold(tensors: number, bytes: number): void {
    this.heldInFlight.tensors += tensors;
    this.heldInFlight.bytes += bytes;
  }

  learningRate(step: number): number {
    const { learningRate: lr, warmupSteps, schedule, steps } = this.config;
    if (step < warmupSteps) return (lr * (step + 1)) / (warmupSteps + 1);
    const progress = (step - warmupSteps) / Math.max(1, steps - warmupSteps);
    if (schedule === 'linear') return lr * Math.max(0, 1 - progress);
    if (schedule === 'cosine') return lr * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    return lr;
  }

  /**
   * Dispatches step `index` (0-based) and starts reading its loss and gradient norm back
   * at once, so the read's copy is queued right behind this step's work and the next step
   * can be dispatched while it travels. The update is applied on the device only while
   * every step so far had a finite loss and gradient (a sticky flag), so a step dispatched
   * behind a non-finite one changes nothing and can be withdrawn.
   */
  private dispatchStep(index: number): PendingStep {
    const { batchSize, gradientAccumulation, maxGradNorm } = this.config;
    const before = { sampler: this.sampler.state(), optimizerStep: this.optimizer.step };
    const started = performance.now();
    const lr = this.learningRate(index);
    const vars = this.method.variables;
    const prompt = methodPrompt(this.method);
    let tokens = 0;
    let lossSum: tf.Scalar | null = null;
    let gradSums: tf.Tensor[] | null = null;
    for (let m = 0; m < gradientAccumulation; m++) {
      const batch = this.sampler.next(batchSize).map((i) => this.task.train[i]);
      tokens += batch.reduce((a, e) => a + e.inputIds.length + e.targetIds.length + this.method.numVirtualTokens, 0);
      const { value, grads } = tf.variableGrads(() => batchLoss(this.model, prompt, batch), vars);
      const ordered = vars.map((v) => grads[v.name]);
      if (lossSum === null || gradSums === null) {
        lossSum = value;
        gradSums = ordered;
      } else {
        const previous: tf.Tensor[] = [lossSum, ...gradSums];
        lossSum = tf.add(lossSum, value) as tf.Scalar;
        gradSums = gradSums.map((g, i) => tf.add(g, ordered[i]));
        tf.dispose([...previous, value, ...ordered]);
      }
    }
    const [lossT, normT] = tf.tidy(() => {
      const loss = tf.div(lossSum!, gradientAccumulation) as tf.Scalar;
      const grads = gradSums!.map((g) => tf.div(g, gradientAccumulation));
      const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
      const scale = maxGradNorm > 0 ? tf.minimum(1, tf.div(maxGradNorm, tf.add(norm, 1e-6))) : tf.scalar(1);
      const clipped = grads.map((g) => tf.mul(g, scale));
      const finite = tf.logicalAnd(tf.isFinite(loss), tf.isFinite(norm)).toFloat();
      const accept = tf.mul(this.healthy, finite) as tf.Scalar;
      this.optimizer.apply(clipped, lr, accept);
      this.healthy.assign(accept);
      return [loss, norm];
    });
    tf.dispose([lossSum!, ...gradSums!]);
    this.hold(2, 8);
    const values = Promise.all([lossT.data(), normT.data()]).finally(() => {
      tf.dispose([lossT, normT]);
      this.hold(-2, -8);
    });
    // Observed in settle or withdraw; this keeps an early rejection from counting as unhandled.
    values.catch(() => undefined);
    return { index, lr, tokens, started, before, values };
  }

  /** Takes back a dispatched step (its update was masked on the device): the sampler and step count rewind. */
  private async withdraw(pending: PendingStep): Promise<void> {
    await pending.values.catch(() => undefined);
    this.sampler.restore(pending.before.sampler.epochStartState, pending.before.sampler.cursor);
    this.optimizer.rewind(pending.before.optimizerStep);
  }

  private async settleQuietly(pending: PendingStep): Promise<void> {
    const values = await pending.values.catch(() => null);
    if (values && Number.isFinite(values[0][0]) && Number.isFinite(values[1][0])) this.step = pending.index + 1;
    else await this.withdraw(pending);
  }

  private isBoundary(step: number) {
    const cfg = this.config;
    const last = step === cfg.steps;
    return {
      project: step % cfg.projectEvery === 0 || last,
      evaluate: step % cfg.evalEvery === 0 || last,
      checkpoint: step % cfg.checkpointEvery === 0 || last,
    };
  }

  /**
   * Device-side copies of what step `step`'s projection, evaluation and checkpoint need,
   * taken before the next step is dispatched; the work itself runs in the background.
   */
  private captureBoundary(step: number): BoundaryWork | null {
    const due = this.isBoundary(step);
    if (!due.project && !due.evaluate && !due.checkpoint) return null;
    const memoryBefore = tf.memory();
    const variables = due.evaluate || due.checkpoint ? this.method.variables.map((v) => v.clone()) : [];
    const projectable = due.project ? this.method.projectable(0) : null;
    const prompt = due.evaluate ? freezePrompt(this.method, this.task.tasks.length) : null;
    const optimizer = due.checkpoint ? this.optimizer.capture() : null;
    const sampler = this.sampler.state();
    const memoryAfter = tf.memory();
    const held = { tensors: memoryAfter.numTensors - memoryBefore.numTensors, bytes: memoryAfter.numBytes - memoryBefore.numBytes };
    this.hold(held.tensors, held.bytes);
    let disposed = false;
    const dispose = () => {
      if (disposed) return;
      disposed = true;
      tf.dispose([...variables, ...(projectable ? [projectable] : [])]);
      prompt?.dispose();
      optimizer?.dispose();
      this.hold(-held.tensors, -held.bytes);
    };
    const run = async (events: TrainerEvents) => {
      try {
        if (due.project) events.onProjection?.(await this.projectionEvent(step, projectable));
        if (prompt) {
          const evaluation = { ...(await this.evaluate(prompt.source)), step };
          events.onEvaluation?.(evaluation);
          if (await this.trackBest(evaluation, variables) && this.config.earlyStoppingPatience > 0) this.patienceRanOut = true;
        }
        if (optimizer) await events.onCheckpoint?.(await this.readSnapshot(step, variables, optimizer, sampler));
      } finally {
        dispose();
      }
    };
    return { step, evaluates: due.evaluate, run, dispose };
  }

  /** Queues boundary work behind earlier work; its first error surfaces at the next drain. */
  private schedule(work: BoundaryWork, events: TrainerEvents): void {
    this.queued++;
    this.background = this.background
      .then(() => (this.backgroundError ? work.dispose() : work.run(events)))
      .catch((e: unknown) => { this.backgroundError ??= e; })
      .finally(() => { this.queued--; });
  }

  /** Waits for all background work; rethrows the first error it met. */
  private async drain(): Promise<void> {
    await this.background;
    if (this.backgroundError) throw this.backgroundError;
  }

  async run(control: RunControl, events: TrainerEvents = {}): Promise<RunSummary> {
    const cfg = this.config;
    let stoppedBy: RunSummary['stoppedBy'] = 'completed';
    let message = '';
    tf.tidy(() => this.healthy.assign(tf.scalar(1)));
    this.patienceRanOut = false;
    this.backgroundError = null;
    if (this.step === 0) {
      events.onProjection?.(await this.project());
    }
    let inFlight: PendingStep | null = null;
    let lastSettled = 0;
    try {
      while (true) {
        await control.yield();
        if (this.backgroundError) throw this.backgroundError;
        if (inFlight === null) {
          // Nothing in flight: the only place the loop waits, for background work and for a pause.
          await this.drain();
          if (this.patienceRanOut) {
            stoppedBy = 'early-stopping';
            message = `Stopped early at step ${this.step}: no better validation accuracy in ${cfg.earlyStoppingPatience} evaluations.`;
            break;
          }
          await control.waitWhilePaused();
          if (control.stopped) {
            stoppedBy = 'user';
            message = `Stopped at step ${this.step}.`;
            break;
          }
          if (this.step >= cfg.steps) break;
          inFlight = this.dispatchStep(this.step);
        }
        const stepNumber: number = inFlight.index + 1;
        const boundary = this.captureBoundary(stepNumber);
        // Early stopping decides from this evaluation whether there is a next step.
        const decides = boundary?.evaluates === true && cfg.earlyStoppingPatience > 0;
        const next: PendingStep | null = this.overlap && stepNumber < cfg.steps && !control.paused && !control.stopped && !decides
          ? this.dispatchStep(stepNumber) : null;
        const current = inFlight;
        inFlight = next;
        let loss: number;
        let gradNorm: number;
        try {
          const [lossValues, normValues] = await current.values;
          [loss, gradNorm] = [lossValues[0], normValues[0]];
        } catch (e) {
          boundary?.dispose();
          throw e;
        }
        inFlight = null;
        if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
          boundary?.dispose();
          if (next) await this.withdraw(next);
          stoppedBy = 'non-finite-loss';
          message = `The loss became ${Number.isNaN(loss) ? 'NaN' : loss > 0 ? 'infinite' : 'not finite'} at step ${stepNumber}, so training stopped; the prompt from step ${this.step} is kept.`
            + ' Lower the learning rate or turn on gradient clipping.';
          events.onLog?.(message);
          break;
        }
        this.step = stepNumber;
        const settled = performance.now();
        // Back to back, a step takes from the previous step's result to its own.
        const stepMs = settled - Math.max(lastSettled, current.started);
        lastSettled = settled;
        this.elapsedMs += stepMs;
        this.averageStepMs = this.step === 1 ? stepMs : 0.9 * this.averageStepMs + 0.1 * stepMs;
        inFlight = next;
        // Queued work starts only after this turn, so its events still follow this step's.
        if (boundary) this.schedule(boundary, events);
        events.onStep?.({
          step: this.step, totalSteps: cfg.steps, loss, learningRate: current.lr, gradNorm,
          tokensPerSecond: current.tokens / (stepMs / 1000), stepMs, elapsedMs: this.elapsedMs,
          etaMs: this.averageStepMs * (cfg.steps - this.step),
        });
        // Without overlap (or to decide early stopping) the work finishes before the next step;
        // with it, at most two boundaries' work waits, so a slow evaluation holds training back
        // rather than piling up.
        if (boundary && (!this.overlap || decides || this.queued > 2)) await this.drain();
      }
    } finally {
      // Only a throw leaves a step in flight: it counts if it was applied, so the prompt,
      // step, sampler and optimizer still agree for whatever comes next (an export, a resume).
      if (inFlight) await this.settleQuietly(inFlight);
      await this.background;
    }
    if (this.backgroundError) throw this.backgroundError;
    if (stoppedBy === 'early-stopping' && this.bestValues) {
      this.restoreVariables(this.bestValues);
      message += ` The prompt from step ${this.bestStep} (the best) is kept.`;
    }
    if (!message) message = `Trained ${this.step} steps.`;
    return { stoppedBy, step: this.step, bestStep: this.bestStep, message };
  }

  /** Records the best evaluation; true when patience has run out. */
  private async trackBest(e: Evaluation, variables: tf.Tensor[]): Promise<boolean> {
    const better = e.report.accuracy > this.bestAccuracy || (e.report.accuracy === this.bestAccuracy && e.loss < this.bestLoss);
    if (better) {
      this.bestAccuracy = e.report.accuracy;
      this.bestLoss = e.loss;
      this.bestStep = e.step;
      this.bestValues = await Promise.all(variables.map((v) => v.data() as Promise<Float32Array>));
      this.evaluationsSinceBest = 0;
      return false;
    }
    this.evaluationsSinceBest++;
    return this.evaluationsSinceBest >= this.config.earlyStoppingPatience;
  }

  private restoreVariables(values: Float32Array[]): void {
    this.method.variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(values[i], v.shape))));
  }

  /** Validation examples scored at each evaluation: the first maxEvalExamples of a fixed order. */
  evaluationSet(): EncodedExample[] {
    const n = this.config.maxEvalExamples;
    return n > 0 ? this.task.validation.slice(0, n) : this.task.validation;
  }

  /** Rank-classification metrics of a prompt source (default: the trained prompt) on the validation split. */
  async evaluate(prompt: PromptSource = methodPrompt(this.method), examples = this.evaluationSet()): Promise<Evaluation> {
    const labels = this.task.labels;
    const batches: EncodedExample[][] = [];
    for (let i = 0; i < examples.length; i += this.config.evalBatchSize) batches.push(examples.slice(i, i + this.config.evalBatchSize));
    // Every batch is dispatched before any is read: one round trip per evaluation, not one per batch.
    const dispatched: tf.Tensor2D[] = [];
    try {
      for (const batch of batches) dispatched.push(labelScores(this.model, prompt, batch, this.task.labelIds));
    } catch (e) {
      tf.dispose(dispatched);
      throw e;
    }
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
    const probabilities = all.map((row) => {
      const max = Math.max(...row);
      const exp = row.map((v) => Math.exp(v - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      return exp.map((v) => v / sum);
    });
    return {
      step: this.step,
      loss: tokens ? nll / tokens : 0,
      report: classificationReport(labels, examples.map((e) => e.label), predictions),
      predictions,
      probabilities,
      examples: examples.length,
    };
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

  /** The instruction used for the text-prompt baseline: the init text, or one listing the labels. */
  baselineInstruction(): string {
    if (this.config.initText.trim()) return this.config.initText.trim();
    return `Classify the text as ${this.task.labels.join(', ')}.`;
  }

  /** Each virtual token replaced by its nearest real token (cosine): the discrete projection. */
  async discretePrompt(): Promise<{ source: PromptSource; ids: number[] } | null> {
    const projection = await this.projectVectors(this.method.projectable(0));
    if (!projection) return null;
    const ids = nearestTokenIds(projection);
    const table = this.model.embeddingTable();
    return {
      ids,
      source: (batch) => {
        const vectors = tf.gather(table, tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
        const c = this.method.withVectors(vectors, batch);
        if (!c) throw new StudioError('training', 'This method has no discrete projection.');
        return c as PromptContribution;
      },
    };
  }

  private async projectVectors(vectors: tf.Tensor2D | null): Promise<Projection | null> {
    if (!vectors) return null;
    try {
      return await projectToVocabulary(vectors, this.model.embeddingTable(), this.tableNorms, this.config.projectionTopK);
    } finally {
      vectors.dispose();
    }
  }

  async project(task = 0): Promise<ProjectionEvent> {
    return this.projectionEvent(this.step, this.method.projectable(task));
  }

  /** Projects `vectors` (and disposes them): the virtual tokens' nearest vocabulary tokens at `step`. */
  private async projectionEvent(step: number, vectors: tf.Tensor2D | null): Promise<ProjectionEvent> {
    const projection = await this.projectVectors(vectors);
    const tokens: Record<number, string> = {};
    if (projection) {
      for (const list of [projection.cosine, projection.dot, projection.l2]) {
        for (const n of list) for (const id of n.ids) tokens[id] ??= this.tokenizer.displayToken(id);
      }
    }
    return { step, projection: projection ?? emptyProjection(), tokens };
  }

  async snapshot(): Promise<RunSnapshot> {
    const variables = this.method.variables.map((v) => v.clone());
    const optimizer = this.optimizer.capture();
    try {
      return await this.readSnapshot(this.step, variables, optimizer, this.sampler.state());
    } finally {
      tf.dispose(variables);
      optimizer.dispose();
    }
  }

  /** A snapshot from device-side copies of the variables and optimizer, with the best step known now. */
  private async readSnapshot(step: number, variables: tf.Tensor[], optimizer: CapturedOptimizerState, sampler: SamplerState): Promise<RunSnapshot> {
    const values = await Promise.all(variables.map((v) => v.data() as Promise<Float32Array>));
    return {
      step,
      variables: variables.map((v, i) => ({ shape: [...v.shape], data: values[i] })),
      optimizer: await optimizer.read(),
      samplerRngState: sampler.rngState,
      samplerEpochStartState: sampler.epochStartState,
      samplerCursor: sampler.cursor,
      bestStep: this.bestStep,
    };
  }

  restore(s: RunSnapshot): void {
    if (s.variables.length !== this.method.variables.length
      || s.variables.some((v, i) => v.shape.join('x') !== this.method.variables[i].shape.join('x'))) {
      throw new StudioError('checkpoint', 'The checkpoint\'s prompt does not fit this method and model.', 'Resume with the settings the run was started with.');
    }
    this.restoreVariables(s.variables.map((v) => v.data));
    this.optimizer.restore(s.optimizer);
    this.sampler.restore(s.samplerEpochStartState, s.samplerCursor);
    this.step = s.step;
    this.bestStep = s.bestStep;
  }

  dispose(): void {
    this.method.dispose();
    this.optimizer.dispose();
    this.tableNorms.dispose();
    this.healthy.dispose();
  }
}

function emptyProjection(): Projection {
  return { k: 0, cosine: [], dot: [], l2: [], norms: [], meanTokenNorm: 0 };
}
