/**
 * What int8 quantization costs the default model, measured against its float32 package:
 *   npm run quality [-- --backend cpu|wasm] [--tokens 200]
 * - greedy generation of --tokens tokens from each prompt by both packages: how many leading
 *   tokens agree, and the fraction of positions that agree;
 * - teacher-forced along the float32 model's own continuation: how often the int8 model's
 *   top-1 token is the float32 model's, and the mean KL(float32 ‖ int8) per position;
 * - mean negative log-likelihood per token of both packages on held texts.
 * Writes docs/results/quantization.{md,json}.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { folderSource } from '../src/cli/nodeSource';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { ModelSession } from '../src/engine/session';
import { argmax, generate } from '../src/model/generate';
import type { CausalLM } from '../src/model/types';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    tokens: { type: 'string', default: '200' },
    out: { type: 'string' },
  },
});
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedModel = path.join(process.env.STUDIO_SHARED_DIR ?? path.resolve(root, '..', 'shared'), 'models', 'stories260K');
const outDir = values.out ?? path.join(root, 'docs', 'results');
const newTokens = Number(values.tokens);
if (!Number.isInteger(newTokens) || newTokens < 1) throw new Error(`--tokens must be a positive whole number, got ${values.tokens}`);

const PROMPTS = ['Once upon a time', 'Lily and Tom', 'The dog', 'One day, a little', 'Sam wanted to', 'The sun was'];

/** Held text: a TinyStories-style paragraph written for this check, seen by neither model in training as such. */
const HELD_PARAGRAPH = 'Once upon a time, there was a little boy named Ben. Ben had a red ball that he loved very much. '
  + 'One day, Ben went to the park with his mom. He threw the ball high in the sky, and it fell into a big tree. '
  + 'Ben was sad. He asked a kind bird to help him. The bird flew up and pushed the ball down. Ben was so happy! '
  + 'He said, "Thank you, bird!" From that day on, Ben and the bird were best friends.';

/** The float32 model's published greedy sample for "Once upon a time" (llama2.c's sample_greedy.txt). */
function publishedSample(): { text: string; from: string } | null {
  for (const dir of [sharedModel, path.join(root, 'public', 'models', 'stories260K-f32')]) {
    const file = path.join(dir, 'sample_greedy.txt');
    if (!existsSync(file)) continue;
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('text: '));
    if (line) return { text: line.slice('text: '.length), from: path.relative(root, file) };
  }
  return null;
}

/** Log-probabilities of every next token along `ids`, teacher-forced: [T-1][V]. */
function nextTokenLogProbs(model: CausalLM, ids: number[]): Float32Array[] {
  const flat = tf.tidy(() => {
    const { hidden } = model.forward({ inputsEmbeds: model.embed(tf.tensor2d(ids, [1, ids.length], 'int32')) }); // [1, T, d]
    const logits = model.logits(hidden).reshape([ids.length, model.config.vocabSize]); // [T, V]
    return tf.logSoftmax(logits.slice([0, 0], [ids.length - 1, -1])).dataSync() as Float32Array; // [T-1, V]
  });
  const V = model.config.vocabSize;
  return Array.from({ length: ids.length - 1 }, (_, t) => flat.subarray(t * V, (t + 1) * V));
}

function meanNll(logProbs: Float32Array[], ids: number[]): number {
  return -logProbs.reduce((sum, lp, t) => sum + lp[ids[t + 1]], 0) / logProbs.length;
}

/** KL(p ‖ q) from log-probabilities. */
function kl(logP: Float32Array, logQ: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < logP.length; i++) sum += Math.exp(logP[i]) * (logP[i] - logQ[i]);
  return sum;
}

const backend = await selectBackend(values.backend as BackendName);
const open = (id: string) => ModelSession.open(folderSource(path.join(root, 'public', 'models', id)), backend);
const float32 = await open('stories260K-f32');
const int8 = await open('stories260K');
if (!int8.pkg.config.quantization || float32.pkg.config.quantization) throw new Error('expected public/models/stories260K to be int8 and stories260K-f32 float: run `npm run setup`');

const generations = [];
for (const prompt of PROMPTS) {
  const promptIds = float32.promptIds(prompt);
  if (int8.promptIds(prompt).join() !== promptIds.join()) throw new Error(`the two packages tokenize "${prompt}" differently`);
  const opts = { maxNewTokens: newTokens, stopAtEos: false };
  const f = await generate(float32.model, promptIds, opts);
  const q = await generate(int8.model, promptIds, opts);
  let leading = 0;
  while (leading < f.length && f[leading] === q[leading]) leading++;
  const agreeing = f.filter((id, i) => q[i] === id).length;
  // Teacher-forced along the float model's continuation: the same context for both at every position.
  const sequence = [...promptIds, ...f];
  const lpF = nextTokenLogProbs(float32.model, sequence);
  const lpQ = nextTokenLogProbs(int8.model, sequence);
  const positions = lpF.slice(promptIds.length - 1); // the positions that predict the generated tokens
  const positionsQ = lpQ.slice(promptIds.length - 1);
  const top1 = positions.filter((lp, i) => argmax(lp) === argmax(positionsQ[i])).length / positions.length;
  const meanKl = positions.reduce((s, lp, i) => s + kl(lp, positionsQ[i]), 0) / positions.length;
  const text = (ids: number[]) => float32.tokenizer.decode(ids, { skipSpecialTokens: true });
  const row = {
    prompt, promptTokens: promptIds.length, newTokens: f.length, leadingAgree: leading, agreeFraction: agreeing / f.length,
    teacherForcedTop1Agree: top1, meanKlFloatToInt8: meanKl,
    float32Text: text(f), int8Text: text(q),
    /** The text both produced before they first differ. */
    commonPrefix: text(f.slice(0, leading)),
  };
  generations.push(row);
  process.stderr.write(`quality: "${prompt}": ${leading} leading tokens agree, ${(row.agreeFraction * 100).toFixed(1)}% of positions; teacher-forced top-1 ${(top1 * 100).toFixed(1)}%\n`);
}

const heldTexts = [{ name: 'held paragraph (written for this check)', text: HELD_PARAGRAPH, from: 'scripts/quantization-quality.ts' }];
const sample = publishedSample();
if (sample) heldTexts.push({ name: 'published greedy sample of the float model', text: sample.text, from: sample.from });
const likelihood = heldTexts.map(({ name, text, from }) => {
  const ids = float32.promptIds(text);
  const nllF = meanNll(nextTokenLogProbs(float32.model, ids), ids);
  const nllQ = meanNll(nextTokenLogProbs(int8.model, ids), ids);
  return { name, from, tokens: ids.length - 1, float32Nll: nllF, int8Nll: nllQ, float32Perplexity: Math.exp(nllF), int8Perplexity: Math.exp(nllQ) };
});
float32.dispose();
int8.dispose();

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`;
const md = [
  `# int8 vs float32: stories260K`,
  '',
  `The studio's int8 package (symmetric absmax, one scale per output channel) against the float32 package, both from \`npm run setup\`, on the ${tf.getBackend()} backend (${machine}). `
    + `Made by \`npm run quality\`. On cpu and wasm the int8 weights are widened to float32 on load, so the difference below is the weights' rounding alone.`,
  '',
  `## Greedy generation, ${newTokens} new tokens (EOS does not stop it)`,
  '',
  'Leading: tokens the two agree on before the first difference. Positions: the fraction of the ' + newTokens + ' positions with the same token (after a difference the texts drift apart, so this mostly follows the leading run). '
    + 'Teacher-forced: along the float32 model\'s continuation, how often the int8 model\'s top-1 next token is the float32 one, and the mean KL(float32 ‖ int8) in nats.',
  '',
  '| prompt | leading tokens agreeing | positions agreeing | teacher-forced top-1 | mean KL | text both produce before they differ |',
  '|---|---|---|---|---|---|',
  ...generations.map((g) => `| ${g.prompt} | ${g.leadingAgree} / ${g.newTokens} | ${pct(g.agreeFraction)} | ${pct(g.teacherForcedTop1Agree)} | ${g.meanKlFloatToInt8.toFixed(5)} | ${JSON.stringify(g.commonPrefix.length > 160 ? `${g.commonPrefix.slice(0, 157)}...` : g.commonPrefix).replace(/\|/g, '\\|')} |`),
  `| **mean** | ${(generations.reduce((s, g) => s + g.leadingAgree, 0) / generations.length).toFixed(1)} | ${pct(generations.reduce((s, g) => s + g.agreeFraction, 0) / generations.length)} | ${pct(generations.reduce((s, g) => s + g.teacherForcedTop1Agree, 0) / generations.length)} | ${(generations.reduce((s, g) => s + g.meanKlFloatToInt8, 0) / generations.length).toFixed(5)} | |`,
  '',
  '## Held text, teacher-forced',
  '',
  '| text | tokens scored | float32 NLL/token | int8 NLL/token | difference | float32 perplexity | int8 perplexity |',
  '|---|---|---|---|---|---|---|',
  ...likelihood.map((l) => `| ${l.name} | ${l.tokens} | ${l.float32Nll.toFixed(4)} | ${l.int8Nll.toFixed(4)} | ${(l.int8Nll - l.float32Nll >= 0 ? '+' : '') + (l.int8Nll - l.float32Nll).toFixed(4)} | ${l.float32Perplexity.toFixed(3)} | ${l.int8Perplexity.toFixed(3)} |`),
  '',
  'The held paragraph:',
  '',
  `> ${HELD_PARAGRAPH}`,
  '',
].join('\n');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'quantization.json'), JSON.stringify({ backend: tf.getBackend(), machine, date: new Date().toISOString(), newTokens, generations, likelihood }, null, 2) + '\n');
writeFileSync(path.join(outDir, 'quantization.md'), md);
process.stdout.write(md);
