/**
 * How long a dataset's examples are in the model's own tokens, through the template. Two
 * things follow from it that a run's settings alone cannot say: how many texts the max length
 * cuts, and how wide a batch will be — batches are padded to their longest row, not to the max
 * length (objective.ts), so on short texts a step costs far less than the max length suggests.
 */
import type { Dataset, Example } from '../data/examples';
import { createRng, shuffleInPlace } from '../data/random';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import { PAD_MULTIPLE } from './objective';
import { CHARS_PER_TOKEN_BUDGET, renderTemplate } from './task';

export interface TokenLengths {
  /** Lengths of [BOS] + template(text) of the examples counted, sorted; none above `cap`. */
  train: number[];
  validation: number[];
  /** Examples in each split: all of them are counted, or a seeded sample of `limit` in all. */
  trainTotal: number;
  validationTotal: number;
  /** A length of `cap` means at least that: text past it is not tokenized. */
  cap: number;
}

/** More rows than this are sampled: tokenizing costs about 0.1 ms a row, and the worker also trains. */
const TOKEN_LENGTH_SAMPLE = 4000;
/** The longest length counted exactly unless a max length needs more: texts past it are not tokenized further. */
const TOKEN_LENGTH_CAP = 4096;

/**
 * The cap that tells what a max length cuts: above it, so a text counted at the cap is longer
 * than the max length. 4,096 doubled as often as needed, so that typing a max length asks for
 * new counts only when it crosses a power of two.
 */
export function lengthCapFor(maxLength: number): number {
  let cap = TOKEN_LENGTH_CAP;
  while (cap <= maxLength) cap *= 2;
  return cap;
}

export function measureTokenLengths(
  tokenizer: TextTokenizer, dataset: Pick<Dataset, 'examples'>, template: string, limit = TOKEN_LENGTH_SAMPLE, cap = TOKEN_LENGTH_CAP,
): TokenLengths {
  const length = (e: Example) => {
    const text = e.text.length > cap * CHARS_PER_TOKEN_BUDGET ? e.text.slice(0, cap * CHARS_PER_TOKEN_BUDGET) : e.text;
    return Math.min(cap, tokenizer.encode(renderTemplate(template, text), { addBos: true }).length);
  };
  const counted = dataset.examples.length > limit ? shuffleInPlace(dataset.examples.slice(), createRng(0)).slice(0, limit) : dataset.examples;
  const sorted = (split: Example['split']) => counted.filter((e) => e.split === split).map(length).sort((a, b) => a - b);
  return {
    train: sorted('train'),
    validation: sorted('validation'),
    trainTotal: dataset.examples.filter((e) => e.split === 'train').length,
    validationTotal: dataset.examples.filter((e) => e.split === 'validation').length,
    cap,
  };
}

/** How many of the sorted lengths are above `length`. */
function countAbove(sorted: number[], length: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= length) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

/**
 * Examples longer than the max length, which a run cuts: counted, or scaled up from the sample.
 * Lengths counted with a cap above the max length (lengthCapFor) tell every one apart.
 */
export function cutByMaxLength(lengths: TokenLengths, maxLength: number): { cut: number; of: number; sampled: boolean } {
  if (maxLength >= lengths.cap) throw new Error(`Token lengths counted up to ${lengths.cap} cannot say what a max length of ${maxLength} cuts`);
  const counted = lengths.train.length + lengths.validation.length;
  const of = lengths.trainTotal + lengths.validationTotal;
  const above = countAbove(lengths.train, maxLength) + countAbove(lengths.validation, maxLength);
  return { cut: counted === of ? above : Math.round(above * (of / Math.max(1, counted))), of, sampled: counted < of };
}

/** The length below which a share q of the sorted lengths lie (nearest rank). */
export function lengthQuantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The shortest max length that keeps a share q of the texts whole. */
export function maxLengthKeeping(lengths: TokenLengths, q: number): number {
  return lengthQuantile([...lengths.train, ...lengths.validation].sort((a, b) => a - b), q);
}

/**
 * The max length to offer where many texts are cut: the shortest that keeps a share q whole,
 * or, where the model's positions leave less room than that, the room itself (and the share
 * it keeps). Null where that length is past the lengths counted (the cap).
 */
export function suggestedMaxLength(lengths: TokenLengths, q: number, room: number): { maxLength: number; keeps: number; limitedByRoom: boolean } | null {
  const keeping = maxLengthKeeping(lengths, q);
  const maxLength = Math.max(1, Math.min(keeping, room));
  if (maxLength >= lengths.cap) return null;
  const { cut, of } = cutByMaxLength(lengths, maxLength);
  return { maxLength, keeps: (of - cut) / Math.max(1, of), limitedByRoom: keeping > room };
}

export interface WidthShare {
  /** Positions of a batch's rows, padding included (the virtual tokens not counted). */
  width: number;
  share: number;
}

/**
 * How wide a batch of `batch` examples drawn at random is, as a distribution: its longest
 * text, cut to the max length, plus `extra` tokens (the label's, in training), padded up to
 * PAD_MULTIPLE as objective.ts pads. With F the share of lengths at most v, the longest of
 * the batch is at most v with probability F(v)^batch.
 */
export function batchWidths(sorted: number[], batch: number, maxLength: number, extra: number): WidthShare[] {
  const padded = (n: number) => Math.ceil(n / PAD_MULTIPLE) * PAD_MULTIPLE;
  if (sorted.length === 0) return [{ width: padded(maxLength + extra), share: 1 }];
  const byWidth = new Map<number, number>();
  let before = 0;
  for (let i = 0; i < sorted.length; i++) {
    const atMost = i + 1;
    if (i + 1 < sorted.length && Math.min(sorted[i + 1], maxLength) === Math.min(sorted[i], maxLength)) continue;
    const cumulative = Math.pow(atMost / sorted.length, batch);
    const width = padded(Math.min(sorted[i], maxLength) + extra);
    byWidth.set(width, (byWidth.get(width) ?? 0) + cumulative - before);
    before = cumulative;
  }
  return [...byWidth].map(([width, share]) => ({ width, share }));
}

/** The mean of f over a width distribution. */
export function expectedOver(widths: WidthShare[], f: (width: number) => number): number {
  return widths.reduce((sum, w) => sum + w.share * f(w.width), 0);
}

/** A training batch's mean width (text and label, padded); without the data's lengths, the max length and the label. */
export function meanTrainingWidth(lengths: TokenLengths | null, batch: number, maxLength: number, labelTokens: number): number {
  if (!lengths || lengths.train.length === 0) return maxLength + labelTokens;
  return expectedOver(batchWidths(lengths.train, batch, maxLength, labelTokens), (width) => width);
}
