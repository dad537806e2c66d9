/**
 * Times the studio's real training step (Trainer: forward, input gradients, clipping,
 * optimizer) for a given shape, on whatever backend tfjs runs. Runs in Node and in the
 * browser's worker alike.
 */
import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../src/model/types';
import type { TextTokenizer } from '../src/tokenizer/tokenizer';
import { validateTrainConfig } from '../src/tuning/config';
import type { EncodedExample } from '../src/tuning/objective';
import type { PreparedTask } from '../src/tuning/task';
import { RunControl } from '../src/tuning/control';
import { Trainer } from '../src/tuning/trainer';
import { createRng } from '../src/data/random';
import { trainingStepFlops, type StepShape } from '../src/model/flops';

export interface StepMeasurement {
  shape: StepShape;
  /** The first step, which on WebGPU includes compiling every shader of this shape. */
  firstStepMs: number;
  /** Median of the steady steps: neither the first nor the last (see measureTrainingStep). */
  stepMs: number;
  tokensPerSecond: number;
  flops: number;
  flopsPerSecond: number;
  /**
   * The most bytes of live tensors at any moment of the run (trackPeakBytes): tfjs's own count
   * (elements × bytes per element of every live tensor, a reshape counted again), the model's
   * weights included. Not the backend's allocations: a buffer pool, heap fragmentation and
   * shader resources are not in it.
   */
  peakBytes: number;
  /** Live tensors before the run and after it (nothing in flight then): equal when nothing leaks. */
  tensorsBefore: number;
  tensorsAfter: number;
  /**
   * With a yardstick: the float32 matmul rate measured just before and just after each steady
   * step (the mean over those steps), so a step is held against the machine of its own moment.
   */
  matmulFlopsPerSecond?: number;
}

/**
 * The same training run — a projection every 2 steps, an evaluation every 4 — with each
 * step waiting for the one before and for its evaluation, and overlapped (the default):
 * what the overlap buys on this backend. Each way runs twice, alternating, and its
 * faster run counts, so warm-up and a busy moment do not favour one side.
 */
export interface OverlapMeasurement {
  shape: StepShape;
  steps: number;
  evaluationExamples: number;
  waitingMsPerStep: number;
  overlappedMsPerStep: number;
  /** waiting / overlapped: above 1 when overlap helps. */
  speedup: number;
}

/** A task whose every row has exactly `sequence` tokens ([BOS] + text + one target token). */
export function syntheticTask(vocabSize: number, sequence: number, rows: number, seed = 0, validationRows = 4): PreparedTask {
  const rng = createRng(seed);
  const id = () => 3 + Math.floor(rng.next() * (vocabSize - 3));
  const example = (label: number): EncodedExample => ({
    inputIds: [1, ...Array.from({ length: sequence - 2 }, id)], label, targetIds: [label === 0 ? 10 : 11], task: 0,
  });
  const train = Array.from({ length: rows }, (_, i) => example(i % 2));
  const validation = Array.from({ length: validationRows }, (_, i) => example(i % 2));
  return {
    labels: ['a', 'b'], scoring: 'rank', verbalizer: { a: ' a', b: ' b' }, labelIds: [[10], [11]], tasks: [], taskLabels: [[0, 1]],
    train, validation, trainIds: train.map((_, i) => i), validationIds: validation.map((_, i) => i),
    truncated: 0, tokenCounts: new Map(), template: '{text}', maxLength: sequence,
  };
}

/**
 * `yardstick`, where given, is called before the first step and after each: the steps then run
 * one after another without overlap, so nothing of a step is in flight while it measures and
 * its time is in no step's (the trainer times a step from its own dispatch when nothing
 * overlaps). A synchronous measure (matmulFlopsPerSecondNow) suits wasm and cpu.
 */
export async function measureTrainingStep(
  model: CausalLM, tokenizer: TextTokenizer, shape: StepShape, steps = 4, yardstick?: () => number,
): Promise<StepMeasurement> {
  const task = syntheticTask(model.config.vocabSize, shape.sequence, Math.max(shape.batch * 2, 8));
  const config = validateTrainConfig({
    method: 'prompt', init: 'random', numVirtualTokens: shape.virtualTokens, batchSize: shape.batch, steps,
    evalEvery: 1_000_000, projectEvery: 1_000_000, checkpointEvery: 1_000_000, maxLength: shape.sequence, warmupSteps: 0,
  });
  const trainer = await Trainer.create(model, tokenizer, task, config);
  const times: number[] = [];
  const rates: number[] = []; // rates[i] just before step i + 1
  const tensorsBefore = tf.memory().numTensors;
  let tensorsAfter = 0;
  if (yardstick) {
    trainer.overlap = false;
    rates.push(yardstick());
  }
  // Timed without tf.profile: on WebGPU the profiler ends the compute pass after every dispatch
  // and maps a timestamp buffer per kernel, which would be most of a small model's step.
  const peak = trackPeakBytes();
  try {
    await trainer.run(new RunControl(), {
      onStep: (e) => {
        times.push(e.stepMs);
        if (yardstick) rates.push(yardstick());
      },
    });
    tensorsAfter = tf.memory().numTensors;
  } finally {
    peak.stop();
    trainer.dispose();
  }
  const peakBytes = peak.bytes();
  const stepMs = steadyStepMs(times);
  const flops = trainingStepFlops(model.config, shape).total;
  const tokens = shape.batch * (shape.sequence + shape.virtualTokens);
  return {
    shape, firstStepMs: times[0], stepMs, tokensPerSecond: tokens / (stepMs / 1000), flops, flopsPerSecond: flops / (stepMs / 1000),
    peakBytes, tensorsBefore, tensorsAfter, ...(yardstick ? { matmulFlopsPerSecond: rateBesideSteadySteps(rates) } : {}),
  };
}

/** The mean of the rates measured on either side of each steady step (steadyStepMs's steps). */
export function rateBesideSteadySteps(rates: number[]): number {
  const steps = rates.length - 1;
  const steady = steps >= 3 ? [...Array(steps - 2).keys()].map((i) => i + 1) : steps === 2 ? [1] : [0];
  return steady.reduce((sum, i) => sum + (rates[i] + rates[i + 1]) / 2, 0) / steady.length;
}

/**
 * The high-water mark of tfjs's count of live tensor bytes (what `tf.memory().numBytes` says)
 * from now until stop(): every tensor the engine registers raises it, so the peak inside a
 * step — activations kept for the backward pass — is seen, not only the count between steps.
 * It costs one comparison per tensor, where tf.profile would time every kernel. The same
 * count as tf.profile's peakBytes, which samples it after each kernel instead.
 */
export function trackPeakBytes(): { bytes(): number; stop(): void } {
  const engine = tf.engine();
  const own = Object.prototype.hasOwnProperty.call(engine, 'trackTensor');
  const original = engine.trackTensor;
  let peak = engine.state.numBytes;
  engine.trackTensor = function (this: typeof engine, ...args: Parameters<typeof original>) {
    original.apply(this, args);
    if (this.state.numBytes > peak) peak = this.state.numBytes;
  };
  return {
    bytes: () => peak,
    stop: () => {
      if (own) engine.trackTensor = original;
      else delete (engine as { trackTensor?: unknown }).trackTensor;
    },
  };
}

/**
 * The median step time, from the trainer's per-step times. It times a step from the previous
 * step's result to its own; with the next step dispatched before this one's loss is read (the
 * trainer's overlap, on by default where the backend queues work), a backend that computes at
 * dispatch would do steps 1 and 2 before step 1's result and nothing between the last two, so
 * only the steps in between count (each is one step's work either way). The first also
 * compiles shaders on WebGPU.
 */
export function steadyStepMs(times: number[]): number {
  const steady = (times.length >= 3 ? times.slice(1, -1) : times.slice(1)).sort((a, b) => a - b);
  return steady.length ? steady[Math.floor(steady.length / 2)] : times[0];
}

export async function measureOverlap(model: CausalLM, tokenizer: TextTokenizer, shape: StepShape, steps = 8): Promise<OverlapMeasurement> {
  const evaluationExamples = 16;
  const task = syntheticTask(model.config.vocabSize, shape.sequence, Math.max(shape.batch * 2, 8), 0, evaluationExamples);
  const config = validateTrainConfig({
    method: 'prompt', init: 'random', numVirtualTokens: shape.virtualTokens, batchSize: shape.batch, steps,
    evalEvery: 4, projectEvery: 2, checkpointEvery: 1_000_000, maxLength: shape.sequence, warmupSteps: 0, evalBatchSize: 8,
  });
  const msPerStep = async (overlap: boolean) => {
    const trainer = await Trainer.create(model, tokenizer, task, config);
    trainer.overlap = overlap;
    try {
      const started = performance.now();
      await trainer.run(new RunControl());
      return (performance.now() - started) / steps;
    } finally {
      trainer.dispose();
    }
  };
  await msPerStep(true); // compiles every shader the timed runs use
  const waiting: number[] = [];
  const overlapped: number[] = [];
  for (let i = 0; i < 2; i++) {
    waiting.push(await msPerStep(false));
    overlapped.push(await msPerStep(true));
  }
  const waitingMsPerStep = Math.min(...waiting);
  const overlappedMsPerStep = Math.min(...overlapped);
  return { shape, steps, evaluationExamples, waitingMsPerStep, overlappedMsPerStep, speedup: waitingMsPerStep / overlappedMsPerStep };
}

/**
 * matmulFlopsPerSecond measured synchronously (wasm, cpu) for a moment: the median of 3-7 calls
 * after one warm-up, as many as fit in about a quarter of a second. Between two training steps.
 */
export function matmulFlopsPerSecondNow(n = 512): number {
  return tf.tidy(() => {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    const once = () => {
      const started = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
      return performance.now() - started;
    };
    once();
    const times: number[] = [];
    const began = performance.now();
    while (times.length < 7 && (times.length < 3 || performance.now() - began < 250)) times.push(once());
    times.sort((x, y) => x - y);
    return (2 * n ** 3) / (times[Math.floor(times.length / 2)] / 1000);
  });
}

/** The backend's own float32 matmul speed, the yardstick of every ratio: the engine measures it the same way. */
export { matmulFlopsPerSecond } from '../src/engine/machineSpeed';
