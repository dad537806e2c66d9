/**
 * Which training examples each step sees: epochs of a seeded shuffle, without replacement.
 * Its whole state is three numbers, so a checkpoint resumes the exact sequence of batches.
 */
import { shuffleInPlace, type Rng } from '../data/random';

export interface SamplerState {
  /** The generator's state when the current epoch was shuffled. */
  epochStartState: number;
  /** Position in the current epoch's order. */
  cursor: number;
  rngState: number;
}

export class BatchSampler {
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
