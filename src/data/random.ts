/**
 * A small seeded PRNG (mulberry32) whose whole state is one uint32, so training can save it
 * in a checkpoint and resume the exact same sequence. Math.random cannot be seeded or saved.
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** The full internal state; `setState(state())` later reproduces the rest of the sequence. */
  state(): number;
  setState(state: number): void;
}

export function createRng(seed: number): Rng {
  // Non-integer or negative seeds are folded into 32 bits rather than rejected, so any
  // number a user types gives a usable, reproducible stream.
  let s = toUint32(seed);
  const nextUint32 = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    nextUint32,
    next: () => nextUint32() / 4294967296,
    state: () => s,
    setState: (state: number) => {
      s = toUint32(state);
    },
  };
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  if (!(n >= 1)) return 0;
  return Math.floor(rng.next() * n);
}

/** Fisher–Yates shuffle; the same rng state always gives the same order. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/**
 * FNV-1a over UTF-16 code units, finished with a murmur3 mix. Used to derive independent,
 * stable sub-seeds (e.g. one per label) so that adding a label does not reshuffle the others.
 */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ toUint32(seed)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function toUint32(x: number): number {
  if (!Number.isFinite(x)) return 0;
  // `>>> 0` wraps modulo 2^32, so seeds like -1 or 2^40 still map to a fixed state.
  return Math.trunc(x) >>> 0;
}
