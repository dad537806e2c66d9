/**
 * The data's token lengths (tuning/tokenLengths.ts) against what a run actually does with
 * the data: the lengths prepareTask encodes, the texts it cuts, and the batch widths the
 * sampler and objective.ts's padding give; and the run estimate that follows them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAL_SIZE_SHAPES } from '../../bench/synthetic';
import { buildDataset, createRng, defaultVerbalizer, guessMapping, parseCsv, type Dataset } from '../../src/data';
import { estimateCpuRunStepMs, estimateCpuEvaluationMs, type FlopsDims } from '../../src/model/flops';
import { TextTokenizer } from '../../src/tokenizer/tokenizer';
import { DEFAULT_TRAIN_CONFIG } from '../../src/tuning/config';
import { PAD_MULTIPLE } from '../../src/tuning/objective';
import { estimateCpuRun, scaledStepMs } from '../../src/tuning/runEstimate';
import { BatchSampler } from '../../src/tuning/sampler';
import { prepareTask } from '../../src/tuning/task';
import {
  batchWidths, cutByMaxLength, expectedOver, lengthCapFor, lengthQuantile, maxLengthKeeping, measureTokenLengths, meanTrainingWidth, suggestedMaxLength, type TokenLengths,
} from '../../src/tuning/tokenLengths';
import { packageDir, repoRoot } from '../helpers';

const dir = packageDir('stories260K');
const tokenizer = TextTokenizer.fromJson(
  JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as object,
  JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as object,
);

function sample(name: string, seed = 1): Dataset {
  const table = parseCsv(readFileSync(path.join(repoRoot, 'public', 'samples', name), 'utf8'));
  return buildDataset(table, guessMapping(table), { validationFraction: 0.2, seed });
}

const TEMPLATE = DEFAULT_TRAIN_CONFIG.template;
const padded = (n: number) => Math.ceil(n / PAD_MULTIPLE) * PAD_MULTIPLE;

describe('token lengths of a dataset', () => {
  const dataset = sample('topics.csv');
  const lengths = measureTokenLengths(tokenizer, dataset, TEMPLATE);
  const prepare = (maxLength: number, template = TEMPLATE) => prepareTask(tokenizer, dataset, {
    template, verbalizer: defaultVerbalizer(dataset.labels), maxLength, truncateSide: 'right',
  }, 512, 0);

  it('are the lengths a run encodes, per split, when nothing is cut', () => {
    const task = prepare(400);
    expect(task.truncated).toBe(0);
    expect(lengths.train).toEqual(task.train.map((e) => e.inputIds.length).sort((a, b) => a - b));
    expect(lengths.validation).toEqual(task.validation.map((e) => e.inputIds.length).sort((a, b) => a - b));
    expect(lengths.trainTotal + lengths.validationTotal).toBe(dataset.examples.length);
  });

  it('follow the template', () => {
    const longer = measureTokenLengths(tokenizer, dataset, 'Here is a short story for you to read:\n{text}\nIts topic:');
    const extra = tokenizer.encode('Here is a short story for you to read:\n\nIts topic:', { addBos: true }).length
      - tokenizer.encode('\nLabel:', { addBos: true }).length;
    expect(extra).toBeGreaterThan(5);
    const mean = (l: TokenLengths) => [...l.train, ...l.validation].reduce((a, b) => a + b, 0) / (l.train.length + l.validation.length);
    expect(mean(longer) - mean(lengths)).toBeGreaterThan(extra - 2);
    expect(mean(longer) - mean(lengths)).toBeLessThan(extra + 2);
  });

  it('say how many texts a max length cuts: the count the run reports', () => {
    const longest = lengths.train.concat(lengths.validation).reduce((a, b) => Math.max(a, b));
    const median = lengthQuantile([...lengths.train, ...lengths.validation].sort((a, b) => a - b), 0.5);
    let sawCuts = 0;
    for (const maxLength of [median - 9, median - 3, median, median + 4, longest - 1, longest, longest + 1]) {
      const { cut, of, sampled } = cutByMaxLength(lengths, maxLength);
      expect(sampled).toBe(false);
      expect(of).toBe(dataset.examples.length);
      expect(cut, `max length ${maxLength}`).toBe(prepare(maxLength).truncated);
      if (cut > 0) sawCuts++;
    }
    expect(sawCuts).toBeGreaterThanOrEqual(4);
    expect(cutByMaxLength(lengths, longest).cut).toBe(0);
  });

  it('name the shortest max length that keeps a share of the texts whole', () => {
    for (const q of [0.5, 0.9, 0.95, 1]) {
      const keep = maxLengthKeeping(lengths, q);
      const { cut, of } = cutByMaxLength(lengths, keep);
      expect((of - cut) / of).toBeGreaterThanOrEqual(q);
      expect((of - cutByMaxLength(lengths, keep - 1).cut) / of).toBeLessThan(q);
    }
  });

  it('suggest the max length that keeps a share whole, or the room the model leaves and what it keeps', () => {
    const keep = maxLengthKeeping(lengths, 0.99);
    const of = dataset.examples.length;
    const free = suggestedMaxLength(lengths, 0.99, keep + 50)!;
    expect(free).toEqual({ maxLength: keep, keeps: (of - prepare(keep).truncated) / of, limitedByRoom: false });
    expect(free.keeps).toBeGreaterThanOrEqual(0.99);
    const room = keep - 5;
    const limited = suggestedMaxLength(lengths, 0.99, room)!;
    expect(limited).toEqual({ maxLength: room, keeps: (of - prepare(room).truncated) / of, limitedByRoom: true });
    expect(limited.keeps).toBeLessThan(0.99);
  });

  it('count a seeded sample of a large dataset, and scale the cut count to the whole', () => {
    const small = measureTokenLengths(tokenizer, dataset, TEMPLATE, 100);
    expect(small.train.length + small.validation.length).toBe(100);
    expect(small.trainTotal).toBe(lengths.trainTotal);
    expect(measureTokenLengths(tokenizer, dataset, TEMPLATE, 100)).toEqual(small);
    const maxLength = lengthQuantile([...lengths.train, ...lengths.validation].sort((a, b) => a - b), 0.7);
    const exact = cutByMaxLength(lengths, maxLength);
    const estimated = cutByMaxLength(small, maxLength);
    expect(estimated.sampled).toBe(true);
    expect(estimated.of).toBe(exact.of);
    expect(Math.abs(estimated.cut - exact.cut)).toBeLessThan(0.12 * exact.of);
  });
});

describe('texts past 4,096 tokens', () => {
  // Long documents: 200 to 1,200 repetitions of a sentence, about 2k to 12k tokens with this tokenizer.
  const rows = [200, 450, 700, 950, 1200].flatMap((n, i) => [[`${'The cat sat on the mat. '.repeat(n)}`, i % 2 ? 'a' : 'b']]);
  const csv = ['text,label', ...rows.map(([text, label]) => `"${text}",${label}`)].join('\n');
  const dataset = buildDataset(parseCsv(csv), { textColumns: ['text'], labelColumn: 'label', taskColumn: null, splitColumn: null }, { validationFraction: 0.4, seed: 3 });
  const cutByRun = (maxLength: number) => prepareTask(tokenizer, dataset, {
    template: TEMPLATE, verbalizer: defaultVerbalizer(dataset.labels), maxLength, truncateSide: 'right',
  }, 1 << 16, 0).truncated;

  it('are counted up to a cap above the max length, so every cut is told apart', () => {
    expect([128, 4095, 4096, 5000, 8191, 8192, 20_000].map(lengthCapFor)).toEqual([4096, 4096, 8192, 8192, 8192, 16_384, 32_768]);
    const atDefault = measureTokenLengths(tokenizer, dataset, TEMPLATE);
    expect(atDefault.cap).toBe(4096);
    expect([...atDefault.train, ...atDefault.validation].filter((l) => l === 4096).length).toBe(4);
    expect(() => cutByMaxLength(atDefault, 6000)).toThrow('Token lengths counted up to 4096 cannot say what a max length of 6000 cuts');
    let distinct = 0;
    for (const maxLength of [3000, 6000, 9000]) {
      const lengths = measureTokenLengths(tokenizer, dataset, TEMPLATE, undefined, lengthCapFor(maxLength));
      const { cut } = cutByMaxLength(lengths, maxLength);
      expect(cut, `max length ${maxLength}`).toBe(cutByRun(maxLength));
      if (cut !== cutByMaxLength(atDefault, Math.min(maxLength, 4095)).cut) distinct++;
    }
    expect(distinct).toBe(2);
  });
});

describe('how wide a batch comes out', () => {
  it('is a distribution: the longest of a batch drawn at random, cut to the max length, plus the label, padded', () => {
    const sorted = [3, 5, 5, 9, 17, 30];
    for (const batch of [1, 2, 3]) {
      for (const maxLength of [8, 16, 64]) {
        const widths = batchWidths(sorted, batch, maxLength, 2);
        expect(widths.reduce((a, w) => a + w.share, 0)).toBeCloseTo(1, 12);
        // Every batch of `batch` draws (with replacement), enumerated.
        const byWidth = new Map<number, number>();
        const draws = sorted.length ** batch;
        for (let k = 0; k < draws; k++) {
          let longest = 0;
          for (let j = 0, r = k; j < batch; j++, r = Math.floor(r / sorted.length)) longest = Math.max(longest, sorted[r % sorted.length]);
          const width = padded(Math.min(longest, maxLength) + 2);
          byWidth.set(width, (byWidth.get(width) ?? 0) + 1 / draws);
        }
        expect(widths.length).toBe(byWidth.size);
        for (const w of widths) expect(w.share, `batch ${batch}, max length ${maxLength}, width ${w.width}`).toBeCloseTo(byWidth.get(w.width)!, 12);
      }
    }
  });

  it('has the mean width of the batches a run draws', () => {
    const dataset = sample('spam.csv');
    const lengths = measureTokenLengths(tokenizer, dataset, TEMPLATE);
    for (const [batch, maxLength] of [[4, 128], [16, 128], [16, 24], [8, 40]]) {
      const sampler = new BatchSampler(lengths.train.length, createRng(7));
      let sum = 0;
      const batches = 3000;
      for (let i = 0; i < batches; i++) {
        const longest = Math.max(...sampler.next(batch).map((j) => Math.min(lengths.train[j], maxLength)));
        sum += padded(longest + 2);
      }
      const expected = meanTrainingWidth(lengths, batch, maxLength, 2);
      expect(expected / (sum / batches), `batch ${batch}, max length ${maxLength}`).toBeGreaterThan(0.97);
      expect(expected / (sum / batches), `batch ${batch}, max length ${maxLength}`).toBeLessThan(1.03);
    }
  });
});

describe('the run estimate at the data\'s lengths', () => {
  const smol = REAL_SIZE_SHAPES[0];
  const dims: FlopsDims = {
    modelType: 'llama', hiddenSize: smol.hiddenSize, numHeads: smol.heads, numKeyValueHeads: smol.kvHeads, headDim: smol.hiddenSize / smol.heads,
    intermediateSize: smol.intermediateSize, numLayers: smol.layers, vocabSize: smol.vocabSize,
  };
  const rate = 25e9;
  const config = { ...DEFAULT_TRAIN_CONFIG, batchSize: 8, maxLength: 128 };
  const uniform = (length: number, n = 50): TokenLengths => ({
    train: Array(n).fill(length), validation: Array(n).fill(length), trainTotal: n, validationTotal: n, cap: 4096,
  });

  it('counts batches as wide as their texts, not the max length', () => {
    const short = estimateCpuRun(dims, rate, config, 50, uniform(20));
    expect(short.meanBatchWidth).toBe(24);
    expect(short.stepMs).toBeCloseTo(estimateCpuRunStepMs(dims, config, rate, 24), 6);
    expect(short.evaluationMs).toBeCloseTo(estimateCpuEvaluationMs(dims, config, 50, rate, 24), 6);
    const none = estimateCpuRun(dims, rate, config, 50);
    expect(none.meanBatchWidth).toBeNull();
    expect(short.stepMs).toBeLessThan(none.stepMs / 2);
  });

  it('comes to the max length\'s estimate, padded, when every text is longer than it', () => {
    const long = estimateCpuRun(dims, rate, config, 50, uniform(500));
    expect(long.meanBatchWidth).toBe(136);
    expect(long.stepMs).toBeCloseTo(estimateCpuRunStepMs(dims, config, rate, 136), 6);
    expect(long.evaluationMs).toBeCloseTo(estimateCpuEvaluationMs(dims, config, 50, rate, 128), 6);
  });

  it('grows with the batch on mixed lengths: a larger batch more often holds a long text', () => {
    const mixed: TokenLengths = { ...uniform(0), train: [...Array(90).fill(20), ...Array(10).fill(120)], trainTotal: 100 };
    const widths = [1, 2, 4, 8, 16, 32].map((batchSize) => estimateCpuRun(dims, rate, { ...config, batchSize }, 50, mixed).meanBatchWidth!);
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeGreaterThan(widths[i - 1]);
    expect(widths[0]).toBeCloseTo(0.9 * 24 + 0.1 * 128, 9);
    expect(expectedOver(batchWidths(mixed.train, 32, 128, 2), (w) => w)).toBeCloseTo(widths[5], 9);
  });

  it('carries a measured step to other settings by the batch times its width: a max length past every text changes nothing', () => {
    const measured = { msPerStep: 1000, batchSize: 16, microBatchSize: 16, maxLength: 128, numVirtualTokens: 20 };
    const at = (change: Partial<typeof config>, lengths: TokenLengths | null) => scaledStepMs(measured, { ...config, batchSize: 16, ...change }, lengths);
    const short = uniform(20);
    expect(at({}, short)).toBeCloseTo(1000, 9);
    expect(at({}, null)).toBeCloseTo(1000, 9);
    // Texts of 20 tokens: batches are 24 wide at any max length from 22 up.
    expect(at({ maxLength: 512 }, short)).toBeCloseTo(1000, 9);
    expect(at({ maxLength: 512 }, null)).toBeCloseTo(1000 * (514 + 20) / (130 + 20), 6);
    expect(at({ batchSize: 32 }, short)).toBeCloseTo(2000, 6);
    expect(at({ batchSize: 8, gradientAccumulation: 4 }, short)).toBeCloseTo(2000, 6);
    expect(at({ numVirtualTokens: 4 }, short)).toBeCloseTo(1000 * (24 + 4) / (24 + 20), 6);
    // Mixed lengths: a larger batch more often holds a long text.
    const mixed: TokenLengths = { ...short, train: [...Array(90).fill(20), ...Array(10).fill(120)] };
    expect(at({ batchSize: 32 }, mixed)).toBeGreaterThan(2000);
  });
});
