import { describe, expect, it } from 'vitest';
import { createRng, hashString, shuffleInPlace } from '../../src/data/random';

describe('createRng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    const sb = Array.from({ length: 20 }, () => b.nextUint32());
    const sc = Array.from({ length: 20 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('next() is in [0, 1) and roughly uniform', () => {
    const rng = createRng(7);
    let sum = 0;
    const buckets = new Array(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
      buckets[Math.floor(x * 10)]++;
    }
    expect(outside).toBe(0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it('state can be saved and restored to replay the sequence', () => {
    const rng = createRng(123);
    for (let i = 0; i < 5; i++) rng.next();
    const saved = rng.state();
    const tail = Array.from({ length: 10 }, () => rng.next());
    const other = createRng(999);
    other.setState(saved);
    expect(Array.from({ length: 10 }, () => other.next())).toEqual(tail);
    rng.setState(saved);
    expect(Array.from({ length: 10 }, () => rng.next())).toEqual(tail);
    expect(Number.isInteger(saved) && saved >= 0 && saved < 2 ** 32).toBe(true);
  });

  it('accepts odd seeds without throwing', () => {
    for (const s of [-1, 2 ** 40, 0.5, Number.NaN, Infinity]) {
      expect(createRng(s).next()).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('shuffleInPlace / hashString', () => {
  it('shuffles to a permutation, deterministically', () => {
    const base = Array.from({ length: 50 }, (_, i) => i);
    const a = shuffleInPlace([...base], createRng(1));
    const b = shuffleInPlace([...base], createRng(1));
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual(base);
    expect(a).not.toEqual(base);
  });

  it('hashString is stable and seed-dependent', () => {
    expect(hashString('spam', 0)).toBe(hashString('spam', 0));
    expect(hashString('spam', 0)).not.toBe(hashString('spam', 1));
    expect(hashString('spam', 0)).not.toBe(hashString('ham', 0));
  });
});
