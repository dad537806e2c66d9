/**
 * The int8 kernel checks, written once for every runner: their shapes, seeds, tolerances and
 * what a result must say to pass. tests/kernels/run.ts makes each case's inputs and runs it on
 * a tfjs backend; the runners only pick a backend and assert `failures(result)` is empty:
 *
 *   tests/model/kernels.test.ts     Node (Vitest), cpu: the layers dequantized at construction
 *   e2e/kernels/kernels.worker.ts   Chromium, webgpu in a module worker (e2e/kernels.spec.ts)
 *
 * Another runner (Node on WebGPU through the `webgpu` package, say) initializes its backend
 * and calls `runBackendCases(name)`, then asserts the same way.
 *
 * This file is plain data and arithmetic (no tfjs, no DOM, no test framework), so the
 * Playwright spec can import it to know which cases must have run without loading tfjs.
 */
import { createRng } from '../../src/data/random';

/** Uniform floats in [0, 1) from a seed (src/data/random's mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  const r = createRng(seed);
  return () => r.next();
}

/** n values uniform in [-scale, scale). */
export function uniform(n: number, next: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
}

// ---------------------------------------------------------------------------------------
// Tolerances: the most |actual − expected| may be is `relative · max(1, max |expected|)`.

/** Bit for bit: the same arithmetic on both sides (dequantizing is one float32 multiply). */
export const EXACT = 0;
/**
 * The plain-JS reference (float32 fma order of the WGSL) against a float64 product: the
 * reference rounds once per fma, the float64 sum not at all.
 */
export const REFERENCE_TOLERANCE = 1e-5;
/**
 * Our kernels against tfjs's own ops on the dequantized weights: float32 sums of ~200
 * products of values ~10 agree to ~3e-5 between orders of summation (SwiftShader against
 * cpu), so 1e-4 of the largest reference value leaves room.
 */
export const KERNEL_TOLERANCE = 1e-4;

/** One numeric comparison: the largest |difference|, the largest |expected| it is relative to. */
export interface Check {
  what: string;
  maxDiff: number;
  maxRef: number;
  /** EXACT, REFERENCE_TOLERANCE or KERNEL_TOLERANCE. */
  relative: number;
}

/** One fact that must hold exactly (shapes, dtypes, tensors left behind); compared as JSON. */
export interface Fact {
  what: string;
  actual: unknown;
  expected: unknown;
}

export interface CaseResult {
  name: string;
  checks: Check[];
  facts: Fact[];
}

/** What `runBackendCases` (./run.ts) returns. */
export interface BackendCasesResult {
  backend: string;
  /** Whether the int8 kernels ran (the weights stayed int8). */
  int8Kernels: boolean;
  /** In the order of BACKEND_CASE_NAMES. */
  cases: CaseResult[];
}

/** The bound a check's maxDiff must not pass. */
export function bound(check: Check): number {
  return check.relative * Math.max(1, check.maxRef);
}

/** Compares two arrays value by value; a NaN anywhere, or a length mismatch, fails the check. */
export function compare(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, relative: number): Check {
  if (actual.length !== expected.length) {
    return { what: `${what} (${actual.length} values against ${expected.length})`, maxDiff: Infinity, maxRef: 0, relative };
  }
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return { what, maxDiff, maxRef, relative };
}

/** What fails in the results, one line each; empty when everything passes. */
export function failures(results: CaseResult | CaseResult[]): string[] {
  const out: string[] = [];
  for (const r of [results].flat()) {
    for (const c of r.checks) {
      if (!(c.maxDiff <= bound(c))) {
        out.push(`${r.name}: ${c.what}: max |diff| ${c.maxDiff} with values up to ${c.maxRef}, allowed ${bound(c)}`);
      }
    }
    for (const f of r.facts) {
      if (JSON.stringify(f.actual) !== JSON.stringify(f.expected)) {
        out.push(`${r.name}: ${f.what}: ${JSON.stringify(f.actual)}, expected ${JSON.stringify(f.expected)}`);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The cases

/** y = x·Wᵀ (+ b) through a QuantLinear, N rows of `inFeatures` → `outFeatures`. */
export interface MatMulCase {
  /** [N, in, out] */
  shape: [number, number, number];
  bias: boolean;
  seed: number;
}

/** A QuantEmbedding [V, d] looked up with ids [B, T], and its tied head. */
export interface EmbeddingCase {
  /** [V, d, B, T] */
  shape: [number, number, number, number];
  seed: number;
}

/**
 * Decode rows (the skinny tile), the model's shapes, and sizes that are not multiples of
 * the tiles (32, 64) or of the 4 values in a word; each with and without a bias somewhere.
 */
export const MATMUL_CASES: MatMulCase[] = ([
  [[1, 172, 512], true],
  [[1, 64, 172], false],
  [[3, 7, 5], true],
  [[37, 171, 45], false],
  [[33, 13, 70], true],
  [[64, 32, 96], false],
  [[1, 172, 64], true],
  [[1, 172, 64], false],
  [[6, 13, 70], true],
  [[6, 13, 70], false],
] as const).map(([shape, bias], i) => ({ shape: [...shape], bias, seed: 100 + i }));

export const EMBEDDING_CASES: EmbeddingCase[] = ([
  [512, 64, 2, 5],
  [50, 13, 1, 7],
  [7, 5, 3, 1],
  [50, 13, 2, 3],
] as const).map((shape, i) => ({ shape: [...shape], seed: 200 + i }));

export function matMulCaseName({ shape: [n, k, m], bias }: MatMulCase): string {
  return `N=${n} in=${k} out=${m}${bias ? ' +bias' : ''}`;
}

export function embeddingCaseName({ shape: [v, d, b, t] }: EmbeddingCase): string {
  return `V=${v} d=${d} ids [${b}, ${t}]`;
}

/** The names of the cases `runBackendCases` runs, in order. */
export const BACKEND_CASE_NAMES = [...MATMUL_CASES.map(matMulCaseName), ...EMBEDDING_CASES.map(embeddingCaseName)];

// The plain-JS reference of the WGSL arithmetic (tests/kernels/reference.ts), no backend.

/** [N, in, out]: as MATMUL_CASES, and a single input column. */
export const REFERENCE_MATMUL_SHAPES: [number, number, number][] = [
  [1, 172, 512],
  [1, 64, 172],
  [3, 7, 5],
  [8, 13, 70],
  [9, 64, 64],
  [37, 171, 45],
  [64, 32, 96],
  [33, 1, 33],
];

/** [V, d] */
export const REFERENCE_EMBEDDING_SHAPES: [number, number][] = [
  [50, 13],
  [512, 64],
  [5, 1],
];

/** Row widths of the int8 packing round trip: under, at and over a word, and the model's. */
export const PACKING_COLS = [1, 3, 4, 5, 172];
