/**
 * A generation task through the CLI: a CSV whose labels are free text (each row's own
 * target) trains with target scoring, writes an adapter that remembers it, and evaluates
 * again with it; `--scoring rank` still ranks the same labels when asked.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import { hasSharedModel, packageDir } from '../helpers';

const ready = hasSharedModel && existsSync(path.join(packageDir('stories260K'), 'model.safetensors'));

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err, lines: out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const names = ['Lily', 'Tom', 'Ben', 'Sue', 'Max', 'Mia'];
const things = ['ball', 'cat', 'dog', 'tree', 'car', 'cake', 'book', 'hat'];

describe.skipIf(!ready)('the CLI on free-text targets', () => {
  let dir: string;
  let csv: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'studio-free-text-'));
    csv = path.join(dir, 'stories.csv');
    // 96 rows, every target different: no label repeats, so a split by label would hold none out.
    const rows = Array.from({ length: 96 }, (_, i) => {
      const name = names[i % names.length];
      const thing = things[Math.floor(i / names.length) % things.length];
      return [`On day ${i + 1}, ${name} found a ${thing} in the park.`, `${name} was happy with the ${thing} ${i < 48 ? 'all day' : `number ${i}`}.`];
    });
    writeFileSync(csv, Papa.unparse([['text', 'label'], ...rows]));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains with target scoring: exact match, no macro-F1, no label-listing baseline; the adapter keeps it, and eval uses it', async () => {
    const out = path.join(dir, 'adapter');
    const trained = await cli('train', '--data', csv, '--steps', '6', '--batch-size', '4', '--max-length', '32', '--virtual-tokens', '4', '--out', out);
    expect(trained.err).not.toMatch(/^error:/m);
    expect(trained.code).toBe(0);
    expect(trained.err).toContain('labels Ben was happy with the ball all day. (1), Ben was happy with the ball number 50. (1), ');
    expect(trained.err).toMatch(/ and 84 more/); // 12 of 96 labels named, not all
    expect(trained.err).not.toMatch(/^warning:/m); // nothing about labels with one example
    expect(trained.err).toMatch(/^Scoring each example against its own target \(96 distinct labels, taken as free text\): accuracy is exact match/m);
    expect(trained.lines.map((l) => l.variant)).toEqual(['soft', 'zero-shot', 'discrete']); // no text baseline to try
    for (const line of trained.lines) {
      expect(line.macro_f1).toBeNull();
      expect(line.generation_accuracy).toBe(line.accuracy);
      expect(line.examples).toBe(19); // a fifth of 96, split at random
    }
    const studio = JSON.parse(readFileSync(path.join(out, 'studio.json'), 'utf8')) as { trainingConfig: { scoring: string }; metrics: Record<string, unknown> };
    expect(studio.trainingConfig.scoring).toBe('target');
    expect(studio.metrics.validation_accuracy).toBe(trained.lines[trained.lines.length - 2].accuracy);
    expect(studio.metrics).not.toHaveProperty('validation_macro_f1');
    expect(studio.metrics).not.toHaveProperty('majority_accuracy');
    // The card's Python: generate is the answer; no label list, verbalizer or ranking function.
    const card = readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(card).toContain('it writes each text\'s target (a generation task, trained on 96 distinct targets');
    expect(card).not.toContain('def score(');
    expect(card).not.toContain('verbalizer = ');
    expect(card).toContain('max_new_tokens=24');

    const evaluated = await cli('eval', '--adapter', out, '--data', csv, '--baselines', '--json');
    expect(evaluated.code).toBe(0);
    const report = JSON.parse(evaluated.out) as Record<string, unknown>;
    const last = trained.lines.find((l) => l.variant === 'soft' && l.step === 6)!;
    expect(report.accuracy).toBe(last.accuracy);
    expect(report.loss as number).toBeCloseTo(last.loss as number, 5);
    expect(report.per_class).toEqual([]);
    expect(report.confusion).toEqual([]);
    expect(Object.keys(report.baselines as object)).toEqual(['zero-shot']); // no text prompt without an init text

    // Its answer is what it writes: generate --adapter gives no label probabilities (there are none to rank).
    const generated = await cli('generate', '--adapter', out, '--prompt', 'On day 3, Sue found a ball in the park.', '--max-new-tokens', '12', '--json');
    expect(generated.code).toBe(0);
    const answer = JSON.parse(generated.out) as { soft: Record<string, unknown>; zero_shot: Record<string, unknown> };
    expect((answer.soft.generated_ids as number[]).length).toBeGreaterThan(0);
    expect(typeof answer.soft.continuation).toBe('string');
    expect(answer.soft).not.toHaveProperty('probabilities');
    expect(answer.zero_shot).not.toHaveProperty('probabilities');
    // Batch prediction: nothing ranked (no p(label) column), each row's prediction what greedy decoding writes,
    // as long as the longest target: the start of what generate --adapter writes for the same text.
    const rowsCsv = path.join(dir, 'rows.csv');
    const texts = ['On day 4, Max found a hat.', 'On day 9, Lily found a tree in the park.'];
    writeFileSync(rowsCsv, Papa.unparse([['text'], ...texts.map((t) => [t])]));
    const predicted = await cli('predict', '--adapters', out, '--data', rowsCsv);
    expect(predicted.err).toMatch(/labels Ben was happy with the ball all day\., .* and 84 more\n/);
    expect(predicted.code).toBe(0);
    const table = Papa.parse<Record<string, string>>(predicted.out.trim(), { header: true }).data;
    expect(Object.keys(table[0])).toEqual(['line', 'text', 'prompt', 'task', 'predicted', 'error']);
    for (const [i, text] of texts.entries()) {
      expect(table[i].error).toBe('');
      expect(table[i].predicted.length).toBeGreaterThan(0);
      const long = await cli('generate', '--adapter', out, '--prompt', text, '--max-new-tokens', '64', '--json');
      expect((JSON.parse(long.out) as { soft: { continuation: string } }).soft.continuation.trim().startsWith(table[i].predicted)).toBe(true);
    }
  });

  it('--scoring rank ranks the same labels (macro-F1 and the text baseline come back)', async () => {
    const ranked = await cli('train', '--data', csv, '--steps', '2', '--batch-size', '4', '--max-length', '32', '--virtual-tokens', '4',
      '--eval-examples', '4', '--scoring', 'rank', '--out', path.join(dir, 'ranked'));
    expect(ranked.code).toBe(0);
    expect(ranked.err).not.toMatch(/Scoring each example/);
    expect(ranked.lines.map((l) => l.variant)).toEqual(['soft', 'zero-shot', 'text', 'discrete']);
    expect(typeof ranked.lines[0].macro_f1).toBe('number');
    const bad = await cli('train', '--data', csv, '--steps', '2', '--scoring', 'exact', '--out', path.join(dir, 'bad'));
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--scoring must be auto, rank, target, got "exact"/);
  });
});
