/**
 * Optimizers over the prompt's variables, written out so their state can be saved in a
 * checkpoint and restored exactly.
 *
 * Adafactor (Shazeer & Stern 2018) is what Lester et al. trained prompts with: lr 0.3,
 * constant, no parameter scaling, second-moment decay t^-0.8, update clipping at 1.0,
 * weight decay 1e-5. It keeps factored second moments (a row and a column vector per
 * matrix) instead of a full copy, and no first moment. The update rule follows the
 * reference implementation in HF transformers' `Adafactor`.
 */
import * as tf from '@tensorflow/tfjs';

export type OptimizerKind = 'adafactor' | 'adamw';

/** The learning rate of step `step` (0-based): linear warm-up, then constant or decaying to 0 at the last step. */
export function scheduledLearningRate(
  config: { learningRate: number; warmupSteps: number; schedule: 'constant' | 'linear' | 'cosine'; steps: number },
  step: number,
): number {
  const { learningRate: lr, warmupSteps, schedule, steps } = config;
  if (step < warmupSteps) return (lr * (step + 1)) / (warmupSteps + 1);
  const progress = (step - warmupSteps) / Math.max(1, steps - warmupSteps);
  if (schedule === 'linear') return lr * Math.max(0, 1 - progress);
  if (schedule === 'cosine') return lr * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
  return lr;
}

export interface OptimizerConfig {
  kind: OptimizerKind;
  weightDecay: number;
  /** AdamW */
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Adafactor */
  decayRate: number;
  clipThreshold: number;
}

export const DEFAULT_OPTIMIZER: Record<OptimizerKind, OptimizerConfig> = {
  adafactor: { kind: 'adafactor', weightDecay: 1e-5, beta1: 0, beta2: 0, epsilon: 1e-30, decayRate: -0.8, clipThreshold: 1.0 },
  adamw: { kind: 'adamw', weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decayRate: 0, clipThreshold: 0 },
};

/** Saved optimizer state: the step and every slot tensor's values, by variable index. */
export interface OptimizerState {
  kind: OptimizerKind;
  step: number;
  slots: { name: string; shape: number[]; data: Float32Array }[];
}

export interface Optimizer {
  readonly kind: OptimizerKind;
  readonly step: number;
  /**
   * Applies one update with learning rate `lr`. When `accept` is 0 (a non-finite loss or
   * gradient) the variables and state are left untouched, without a round trip to read it.
   */
  apply(grads: tf.Tensor[], lr: number, accept: tf.Scalar): void;
  state(): Promise<OptimizerState>;
  /** Device-side copies of the state as it is now, read later while training goes on. */
  capture(): CapturedOptimizerState;
  restore(state: OptimizerState): void;
  /** Takes back the step count of updates that were dispatched and then withdrawn. */
  rewind(step: number): void;
  dispose(): void;
}

/** An optimizer's state copied on the device: nothing has been read back yet. */
export interface CapturedOptimizerState {
  read(): Promise<OptimizerState>;
  dispose(): void;
}

const rms = (x: tf.Tensor) => tf.sqrt(tf.mean(tf.square(x)));

/** Replaces `target` with `next` where accept is 1; keeps it where 0 (NaN-safe, unlike a multiply). */
function assignIf(target: tf.Variable, next: tf.Tensor, accept: tf.Scalar): void {
  target.assign(tf.where(tf.cast(accept, 'bool'), next, target));
}

abstract class SlotOptimizer implements Optimizer {
  abstract readonly kind: OptimizerKind;
  protected t = 0;
  protected readonly slots: tf.Variable[] = [];
  protected readonly slotNames: string[] = [];

  constructor(protected readonly vars: tf.Variable[], protected readonly cfg: OptimizerConfig) {}

  get step(): number {
    return this.t;
  }

  protected slot(name: string, shape: number[]): tf.Variable {
    // A variable keeps its initial tensor's data alive: the zeros must be disposed, or every
    // optimizer leaves one tensor per slot behind (found by `npm run bench:soak`).
    const zeros = tf.zeros(shape);
    const v = tf.variable(zeros, false);
    zeros.dispose();
    this.slots.push(v);
    this.slotNames.push(name);
    return v;
  }

  abstract apply(grads: tf.Tensor[], lr: number, accept: tf.Scalar): void;

  async state(): Promise<OptimizerState> {
    const captured = this.capture();
    try {
      return await captured.read();
    } finally {
      captured.dispose();
    }
  }

  capture(): CapturedOptimizerState {
    const { kind, t: step } = this;
    const copies = this.slots.map((s) => s.clone());
    const names = [...this.slotNames];
    return {
      read: async () => {
        const data = await Promise.all(copies.map((s) => s.data() as Promise<Float32Array>));
        return { kind, step, slots: copies.map((s, i) => ({ name: names[i], shape: [...s.shape], data: data[i] })) };
      },
      dispose: () => tf.dispose(copies),
    };
  }

  rewind(step: number): void {
    this.t = step;
  }

  restore(state: OptimizerState): void {
    if (state.kind !== this.kind || state.slots.length !== this.slots.length) {
      throw new Error(`optimizer state for ${state.kind} (${state.slots.length} slots) does not fit ${this.kind} (${this.slots.length})`);
    }
    this.t = state.step;
    state.slots.forEach((s, i) => tf.tidy(() => this.slots[i].assign(tf.tensor(s.data, s.shape))));
  }

  dispose(): void {
    tf.dispose(this.slots);
  }
}

export class AdamW extends SlotOptimizer {
  readonly kind = 'adamw' as const;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(vars: tf.Variable[], cfg: OptimizerConfig) {
    super(vars, cfg);
    this.m = vars.map((x, i) => this.slot(`m${i}`, x.shape));
    this.v = vars.map((x, i) => this.slot(`v${i}`, x.shape));
  }

  apply(grads: tf.Tensor[], lr: number, accept: tf.Scalar): void {
    // A rejected step still counts (reading `accept` would stall the pipeline); a
    // rejected step ends the run, and the trainer rewinds the count of withdrawn steps.
    this.t++;
    const { beta1, beta2, epsilon, weightDecay } = this.cfg;
    const bias1 = 1 - beta1 ** this.t;
    const bias2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      this.vars.forEach((x, i) => {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        const update = tf.div(tf.div(m, bias1), tf.add(tf.sqrt(tf.div(v, bias2)), epsilon));
        const decayed = tf.mul(x, 1 - lr * weightDecay);
        assignIf(this.m[i], m, accept);
        assignIf(this.v[i], v, accept);
        assignIf(x, tf.sub(decayed, tf.mul(update, lr)), accept);
      });
    });
  }
}

export class Adafactor extends SlotOptimizer {
  readonly kind = 'adafactor' as const;
  /** Per variable: [row, col] factored moments for matrices, or [full] for vectors. */
  private readonly moments: tf.Variable[][];

  constructor(vars: tf.Variable[], cfg: OptimizerConfig) {
    super(vars, cfg);
    this.moments = vars.map((x, i) => {
      if (x.shape.length >= 2) {
        const rows = x.shape.slice(0, -1);
        const cols = [...x.shape.slice(0, -2), x.shape[x.shape.length - 1]];
        return [this.slot(`row${i}`, rows), this.slot(`col${i}`, cols)];
      }
      return [this.slot(`v${i}`, x.shape)];
    });
  }

  apply(grads: tf.Tensor[], lr: number, accept: tf.Scalar): void {
    this.t++;
    const { epsilon, decayRate, clipThreshold, weightDecay } = this.cfg;
    const beta2t = 1 - Math.pow(this.t, decayRate);
    tf.tidy(() => {
      this.vars.forEach((x, i) => {
        const g = grads[i];
        const squared = tf.add(tf.square(g), epsilon);
        let update: tf.Tensor;
        const slots = this.moments[i];
        if (slots.length === 2) {
          const [rowVar, colVar] = slots;
          const row = tf.add(tf.mul(rowVar, beta2t), tf.mul(tf.mean(squared, -1), 1 - beta2t));
          const col = tf.add(tf.mul(colVar, beta2t), tf.mul(tf.mean(squared, -2), 1 - beta2t));
          // Rank-1 estimate of the second moment: row ⊗ col / mean(row)
          const rowFactor = tf.rsqrt(tf.div(row, tf.mean(row, -1, true))).expandDims(-1);
          const colFactor = tf.rsqrt(col).expandDims(-2);
          update = tf.mul(tf.mul(rowFactor, colFactor), g);
          assignIf(rowVar, row, accept);
          assignIf(colVar, col, accept);
        } else {
          const v = tf.add(tf.mul(slots[0], beta2t), tf.mul(squared, 1 - beta2t));
          update = tf.mul(tf.rsqrt(v), g);
          assignIf(slots[0], v, accept);
        }
        update = tf.div(update, tf.maximum(tf.div(rms(update), clipThreshold), 1));
        const decayed = weightDecay > 0 ? tf.mul(x, 1 - lr * weightDecay) : x;
        assignIf(x, tf.sub(decayed, tf.mul(update, lr)), accept);
      });
    });
  }
}

export function createOptimizer(vars: tf.Variable[], cfg: OptimizerConfig): Optimizer {
  return cfg.kind === 'adafactor' ? new Adafactor(vars, cfg) : new AdamW(vars, cfg);
}
