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
 * Where the backend queues work (WebGPU) nothing in the loop waits on the device: step N+1 is
 * dispatched before step N's loss is read, and step N's projection, evaluation and checkpoint
 * run in the background on device-side copies, with exactly the numbers of a waiting loop
 * (tests/tuning/overlap.test.ts; early stopping alone waits for its evaluation). Where ops
 * compute as issued (wasm, cpu) each step is reported, layer by layer and at its end, as it is
 * computed, and a pause or stop can interrupt it between layers (stepProgress.ts, control.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../errors';
import { createRng } from '../data/random';
import type { CausalLM } from '../model/types';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import { isEvaluationStep, type TrainConfig } from './config';
import type { RunControl } from './control';
import { Evaluator, type Evaluation, type EvaluationProgress } from './evaluator';
import { initialPrompt } from './init';
import { createMethod } from './methods';
import type { SoftPromptMethod } from './methods/types';
import { batchLoss, freezePrompt, methodPrompt, type EncodedExample, type PromptSource } from './objective';
import { BestPrompt } from './bestPrompt';
import { createOptimizer, DEFAULT_OPTIMIZER, scheduledLearningRate, type CapturedOptimizerState, type Optimizer, type OptimizerState } from './optimizers';
import { Projector, type ProjectionEvent } from './projection';
import { BatchSampler, type SamplerState } from './sampler';
import type { PreparedTask } from './task';
import type { RunSnapshot, RunSummary, StepEvent, StepProgress, TrainerEvents } from './events';
import { computesAtDispatch, forwardShare, observedGradients, StepInterrupted, stepObserver } from './stepProgress';

export type { Evaluation, EvaluationProgress } from './evaluator';
export type { ProjectionEvent } from './projection';
export type { RunSnapshot, RunSummary, StepEvent, StepProgress, TrainerEvents } from './events';

/** A step dispatched to the device whose loss and gradient norm are on their way back. */
interface PendingStep {
  /** 0-based: the step that makes `step` index + 1. */
  index: number;
  lr: number;
  tokens: number;
  started: number;
  /** How long dispatching took: the whole step on backends that compute as ops are issued (wasm, cpu). */
  dispatchMs: number;
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

export class Trainer {
  readonly method: SoftPromptMethod;
  private readonly optimizer: Optimizer;
  private readonly sampler: BatchSampler;
  /** Scores prompts on the task's validation examples (the trained one, baselines, the discrete projection). */
  readonly evaluator: Evaluator;
  /** Projects the prompt onto the vocabulary. */
  readonly projector: Projector;
  step = 0;
  private readonly best: BestPrompt;
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
  /** A checkpoint was asked for outside the schedule (the page is going away, time has passed): the next step takes one. */
  private checkpointRequested = false;
  /**
   * Dispatch the next step before reading this one's loss, and run projections, evaluations
   * and checkpoints on copies meanwhile; the numbers are the same either way. On where the
   * backend queues work (WebGPU). Off where ops compute as issued (wasm, cpu): there dispatching
   * the next step *is* computing it, which held each step's report back by a whole step.
   */
  overlap = !computesAtDispatch();

  private constructor(
    readonly model: CausalLM,
    readonly tokenizer: TextTokenizer,
    readonly task: PreparedTask,
    readonly config: TrainConfig,
    method: SoftPromptMethod,
    evaluationBatch: number,
  ) {
    this.method = method;
    this.optimizer = createOptimizer(method.variables, { ...DEFAULT_OPTIMIZER[config.optimizer], weightDecay: config.weightDecay });
    this.sampler = new BatchSampler(task.train.length, createRng(config.seed ^ 0x243f6a88));
    this.evaluator = new Evaluator(model, tokenizer, task, { ...config, evalBatchSize: Math.min(config.evalBatchSize, evaluationBatch) });
    this.best = new BestPrompt(config.earlyStoppingPatience);
    this.projector = new Projector(model, tokenizer, config.projectionTopK);
    const one = tf.scalar(1);
    this.healthy = tf.variable(one, false);
    one.dispose();
  }

  /** `evaluationBatch`: evaluate in batches of at most this many (what memory allows; config.evalBatchSize otherwise). */
  static async create(model: CausalLM, tokenizer: TextTokenizer, task: PreparedTask, config: TrainConfig, options: { evaluationBatch?: number } = {}): Promise<Trainer> {
    const initial = await initialPrompt(config.numVirtualTokens, model, tokenizer, {
      kind: config.init,
      text: config.initText,
      labels: task.labelIds.map((_, i) => task.verbalizer[task.labels[i]]),
      tokenCounts: task.tokenCounts,
      seed: config.seed,
    });
    const method = createMethod({ config, initial, model: model.config, numTasks: task.tasks.length });
    return new Trainer(model, tokenizer, task, config, method, options.evaluationBatch ?? config.evalBatchSize);
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

  /**
   * Dispatches step `index` (0-based) and starts reading its loss and gradient norm back
   * at once, so the read's copy is queued right behind this step's work and the next step
   * can be dispatched while it travels. The update is applied on the device only while
   * every step so far had a finite loss and gradient (a sticky flag), so a step dispatched
   * behind a non-finite one changes nothing and can be withdrawn.
   */
  private dispatchStep(index: number, onProgress?: (p: StepProgress) => void, control?: RunControl): PendingStep | null {
    const { batchSize, gradientAccumulation, maxGradNorm } = this.config;
    const before = { sampler: this.sampler.state(), optimizerStep: this.optimizer.step };
    const started = performance.now();
    const lr = scheduledLearningRate(this.config, index);
    const vars = this.method.variables;
    const prompt = methodPrompt(this.method);
    const share = forwardShare(this.model.config, this.model.mlpRecompute);
    let tokens = 0;
    let lossSum: tf.Scalar | null = null;
    let gradSums: tf.Tensor[] | null = null;
    for (let m = 0; m < gradientAccumulation; m++) {
      const batch = this.sampler.next(batchSize).map((i) => this.task.train[i]);
      tokens += batch.reduce((a, e) => a + e.inputIds.length + e.targetIds.length + this.method.numVirtualTokens, 0);
      const progress = onProgress ? [index + 1, m, gradientAccumulation, started, share, onProgress] as const : null;
      const observer = stepObserver(progress, control ? () => control.interruptRequested() : null);
      let computed: ReturnType<typeof tf.variableGrads>;
      try {
        computed = observedGradients(this.model, observer, () => batchLoss(this.model, prompt, batch), vars);
      } catch (e) {
        if (!(e instanceof StepInterrupted)) throw e;
        tf.dispose([...(lossSum ? [lossSum] : []), ...(gradSums ?? [])]);
        this.sampler.restore(before.sampler.epochStartState, before.sampler.cursor);
        return null; // abandoned before its update: as if never dispatched
      }
      const { value, grads } = computed;
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
    return { index, lr, tokens, started, dispatchMs: performance.now() - started, before, values };
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
    const requested = this.checkpointRequested;
    this.checkpointRequested = false;
    return {
      project: step % cfg.projectEvery === 0 || last,
      evaluate: isEvaluationStep(step, cfg),
      checkpoint: step % cfg.checkpointEvery === 0 || last || requested,
    };
  }

  /** The next step also takes a checkpoint (onCheckpoint), whatever checkpointEvery says. */
  requestCheckpoint(): void {
    this.checkpointRequested = true;
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
        if (due.project) events.onProjection?.(await this.projector.event(step, projectable));
        if (prompt) {
          const onProgress = events.onEvaluationProgress && ((p: EvaluationProgress) => events.onEvaluationProgress!(step, p));
          const evaluation = { ...(await this.evaluate(prompt.source, undefined, onProgress)), step };
          events.onEvaluation?.(evaluation);
          if (await this.best.offer(evaluation, variables) && this.config.earlyStoppingPatience > 0) this.patienceRanOut = true;
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
      events.onProjection?.(await this.projector.event(0, this.method.projectable(0)));
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
          inFlight = this.dispatchStep(this.step, events.onStepProgress, control);
          if (inFlight === null) {
            await control.settleInterrupt(); // then the loop meets the pause or stop at its top
            continue;
          }
        }
        const stepNumber: number = inFlight.index + 1;
        const boundary = this.captureBoundary(stepNumber);
        // Early stopping decides from this evaluation whether there is a next step.
        const decides = boundary?.evaluates === true && cfg.earlyStoppingPatience > 0;
        const next: PendingStep | null = this.overlap && stepNumber < cfg.steps && !control.paused && !control.stopped && !decides
          ? this.dispatchStep(stepNumber, events.onStepProgress, control) : null;
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
        // Back to back, a step takes from the previous step's result to its own. Where ops
        // compute as they are issued (wasm, cpu), a step with nothing dispatched behind it (the
        // last, or the one before a pause) lands at once: its time is then its dispatch's.
        const stepMs = Math.max(settled - Math.max(lastSettled, current.started), current.dispatchMs);
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
    if (stoppedBy === 'early-stopping' && this.best.values) {
      this.restoreVariables(this.best.values);
      message += ` The prompt from step ${this.best.step} (the best) is kept.`;
    }
    if (!message) message = `Trained ${this.step} steps.`;
    return { stoppedBy, step: this.step, bestStep: this.best.step, message };
  }

  private restoreVariables(values: Float32Array[]): void {
    this.method.variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(values[i], v.shape))));
  }

  /** Rank-classification metrics of a prompt source (default: the trained prompt) at the current step. */
  evaluate(
    prompt: PromptSource = methodPrompt(this.method), examples = this.evaluator.evaluationSet(), onProgress?: (p: EvaluationProgress) => void,
  ): Promise<Evaluation> {
    return this.evaluator.evaluate(prompt, examples, this.step, onProgress);
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
      bestStep: this.best.step,
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
    this.best.step = s.bestStep;
  }

  dispose(): void {
    this.method.dispose();
    this.optimizer.dispose();
    this.projector.dispose();
    this.healthy.dispose();
  }
}

