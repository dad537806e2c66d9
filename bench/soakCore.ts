/**
 * The soak run shared by Node (bench/soak.ts) and the benchmark page's worker: prompt tuning
 * on a real dataset for thousands of steps, as the studio runs it (projection, evaluation
 * and checkpoint snapshots at their usual intervals), sampling tfjs memory and the JS heap
 * along the way to show whether anything grows. No Node or DOM imports.
 */
import * as tf from '@tensorflow/tfjs';
import { buildDataset, defaultVerbalizer, guessMapping, parseCsv, type Dataset } from '../src/data';
import { createRng, shuffleInPlace } from '../src/data/random';
import type { CausalLM } from '../src/model/types';
import type { TextTokenizer } from '../src/tokenizer/tokenizer';
import { validateTrainConfig } from '../src/tuning/config';
import { prepareTask } from '../src/tuning/task';
import { RunControl } from '../src/tuning/control';
import { Trainer } from '../src/tuning/trainer';

export interface SoakOptions {
  steps: number;
  batchSize: number;
  maxLength: number;
  virtualTokens: number;
  /** Rows per label sampled from the CSV (fixed seed), split 80/20. */
  perClass: number;
  /** Memory samples: one every this many steps, plus the first and last step. */
  sampleEvery: number;
}

export const DEFAULT_SOAK: SoakOptions = { steps: 5000, batchSize: 4, maxLength: 64, virtualTokens: 20, perClass: 100, sampleEvery: 500 };

export interface MemorySample {
  /** 0: before the trainer exists; -1: after it is disposed. */
  step: number;
  numTensors: number;
  numBytes: number;
  /** JS heap in use after a forced GC where the runtime allows one (Node --expose-gc, Chromium --js-flags=--expose-gc). */
  heapBytes: number | null;
  /** The wasm backend's linear memory (it grows, never shrinks); null on other backends. */
  wasmMemoryBytes: number | null;
  /** Mean step time since the previous sample. */
  msPerStep: number | null;
  loss: number | null;
}

export interface SoakResult {
  backend: string;
  options: SoakOptions;
  dataset: { file: string; trainRows: number; validationRows: number };
  seconds: number;
  samples: MemorySample[];
  /** Live tensors after each step, lowest and highest over the whole run (after step 1). */
  tensorsRange: [number, number];
  finalAccuracy: number;
  verdict: {
    tensorsGrew: boolean;
    bytesGrew: boolean;
    /** The first sample after every kind of work has run once (past the first evaluation); null when the run is shorter. */
    settledStep: number | null;
    /** Heap at settledStep → after the last step. */
    heapDeltaBytes: number | null;
    heapGrew: boolean | null;
    wasmMemoryGrew: boolean | null;
    /** Every tensor the run created is gone once the trainer is disposed. */
    tensorsReturnedToStart: boolean;
  };
}

/** A balanced sample of a `text,label` CSV, split 80/20 stratified: the same rows every time. */
export function soakDataset(csvText: string, perClass: number, seed = 0): Dataset {
  const table = parseCsv(csvText);
  const byLabel = new Map<string, string[][]>();
  for (const r of table.rows) byLabel.set(r[1], [...(byLabel.get(r[1]) ?? []), r]);
  const rng = createRng(seed);
  const rows = [...byLabel.values()].flatMap((group) => shuffleInPlace([...group], rng).slice(0, perClass));
  const sampled = { ...table, rows, lineNumbers: rows.map((_, i) => i + 2) };
  return buildDataset(sampled, guessMapping(sampled), { validationFraction: 0.2, seed });
}

function wasmMemoryBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.byteLength ?? null;
}

/** The studio's intervals for the work besides the step; evaluation is the rarest. */
const INTERVALS = { project: 10, checkpoint: 50, evaluate: 250 };

/** Heap growth that counts: over 1 MiB and over 5% of where it stood after warm-up. */
const HEAP_TOLERANCE = { bytes: 2 ** 20, fraction: 0.05 };

export async function runSoak(
  model: CausalLM, tokenizer: TextTokenizer, dataset: Dataset, datasetFile: string, options: SoakOptions,
  heapBytes: () => number | null, log: (s: string) => void,
): Promise<SoakResult> {
  // A step and a boundary's copies in flight are transient, not growth: samples leave them out.
  let inFlight = () => ({ tensors: 0, bytes: 0 });
  const sample = (step: number, msPerStep: number | null, loss: number | null): MemorySample => {
    const heap = heapBytes();
    const m = tf.memory();
    const transient = inFlight();
    return { step, numTensors: m.numTensors - transient.tensors, numBytes: m.numBytes - transient.bytes, heapBytes: heap, wasmMemoryBytes: wasmMemoryBytes(), msPerStep, loss };
  };
  const describe = (s: MemorySample) => `tensors ${s.numTensors}, tensor bytes ${s.numBytes}, heap ${s.heapBytes === null ? '–' : `${(s.heapBytes / 2 ** 20).toFixed(2)} MiB`}`
    + `${s.wasmMemoryBytes === null ? '' : `, wasm memory ${(s.wasmMemoryBytes / 2 ** 20).toFixed(1)} MiB`}`;

  const samples: MemorySample[] = [sample(0, null, null)];
  log(`start: ${describe(samples[0])}`);
  const trainCount = dataset.examples.filter((e) => e.split === 'train').length;
  // The studio's own intervals: project every 10 steps, checkpoint every 50; evaluation on a capped set.
  const config = validateTrainConfig({
    method: 'prompt', numVirtualTokens: options.virtualTokens, init: 'labels', optimizer: 'adamw', learningRate: 0.1,
    batchSize: options.batchSize, steps: options.steps, warmupSteps: 10, maxLength: options.maxLength,
    evalEvery: INTERVALS.evaluate, projectEvery: INTERVALS.project, checkpointEvery: INTERVALS.checkpoint, maxEvalExamples: 64, seed: 1,
  }, { trainExamples: trainCount, tasks: dataset.tasks.length });
  const task = prepareTask(tokenizer, dataset, {
    template: config.template, verbalizer: defaultVerbalizer(dataset.labels), maxLength: config.maxLength, truncateSide: config.truncateSide,
  }, model.config.maxPositions, config.numVirtualTokens);
  const trainer = await Trainer.create(model, tokenizer, task, config);
  inFlight = () => trainer.inFlight;
  let tensorsRange: [number, number] = [Infinity, -Infinity];
  let finalAccuracy = NaN;
  let snapshots = 0;
  const started = performance.now();
  let sinceSample = 0;
  let stepsSinceSample = 0;
  try {
    await trainer.run(new RunControl(), {
      onStep: (e) => {
        const live = tf.memory().numTensors - trainer.inFlight.tensors;
        tensorsRange = [Math.min(tensorsRange[0], live), Math.max(tensorsRange[1], live)];
        sinceSample += e.stepMs;
        stepsSinceSample++;
        if (e.step === 1 || e.step % options.sampleEvery === 0 || e.step === options.steps) {
          const s = sample(e.step, sinceSample / stepsSinceSample, e.loss);
          samples.push(s);
          sinceSample = 0;
          stepsSinceSample = 0;
          log(`step ${e.step}: ${describe(s)}, ${s.msPerStep!.toFixed(1)} ms/step, loss ${e.loss.toFixed(3)}`);
        }
      },
      onEvaluation: (e) => (finalAccuracy = e.report.accuracy),
      // What the studio does with a snapshot (store it) needs it whole: count it, drop it.
      onCheckpoint: (s) => void (snapshots += s.variables.length > 0 ? 1 : 0),
    });
  } finally {
    trainer.dispose();
    inFlight = () => ({ tensors: 0, bytes: 0 });
  }
  const seconds = (performance.now() - started) / 1000;
  const after = sample(-1, null, null);
  samples.push(after);
  log(`after dispose: ${describe(after)}; ${snapshots} checkpoint snapshots taken`);

  const first = samples.find((s) => s.step === 1)!;
  const last = samples[samples.length - 2];
  // Heap and wasm memory reach their working size once every kind of work has run (the
  // evaluation's larger batches raise wasm's high-water mark): compare from the first sample after that.
  const settled = samples.find((s) => s.step > INTERVALS.evaluate) ?? null;
  const heapDeltaBytes = settled?.heapBytes == null || last.heapBytes === null ? null : last.heapBytes - settled.heapBytes;
  return {
    backend: tf.getBackend(),
    options,
    dataset: { file: datasetFile, trainRows: task.train.length, validationRows: task.validation.length },
    seconds,
    samples,
    tensorsRange,
    finalAccuracy,
    verdict: {
      tensorsGrew: last.numTensors > first.numTensors || tensorsRange[1] > first.numTensors,
      bytesGrew: last.numBytes > first.numBytes,
      settledStep: settled?.step ?? null,
      heapDeltaBytes,
      heapGrew: heapDeltaBytes === null ? null
        : heapDeltaBytes > HEAP_TOLERANCE.bytes && heapDeltaBytes > HEAP_TOLERANCE.fraction * settled!.heapBytes!,
      wasmMemoryGrew: settled?.wasmMemoryBytes == null || last.wasmMemoryBytes === null ? null : last.wasmMemoryBytes > settled.wasmMemoryBytes,
      tensorsReturnedToStart: after.numTensors === samples[0].numTensors && after.numBytes === samples[0].numBytes,
    },
  };
}

/** The soak's report as markdown: one row per sample, then the verdict in words. */
export function soakMarkdown(r: SoakResult, where: string): string {
  const mib = (x: number | null) => (x === null ? '–' : (x / 2 ** 20).toFixed(2));
  const v = r.verdict;
  const lines = [
    `Soak, ${where}, ${r.backend} backend: prompt tuning on stories260K (int8), ${r.options.steps} steps, batch ${r.options.batchSize}, `
      + `max length ${r.options.maxLength}, ${r.options.virtualTokens} virtual tokens, ${r.dataset.file} (${r.dataset.trainRows} train / ${r.dataset.validationRows} validation rows); `
      + `projection every ${INTERVALS.project}, evaluation every ${INTERVALS.evaluate} (64 rows), checkpoint snapshot every ${INTERVALS.checkpoint}; ${(r.seconds / 60).toFixed(1)} min.`,
    '',
    '| step | live tensors | tensor bytes | JS heap MiB | wasm memory MiB | ms/step | loss |',
    '|---|---|---|---|---|---|---|',
    ...r.samples.map((s) => `| ${s.step === 0 ? 'start' : s.step === -1 ? 'disposed' : s.step} | ${s.numTensors} | ${s.numBytes} | ${mib(s.heapBytes)} | ${mib(s.wasmMemoryBytes)} | ${s.msPerStep === null ? '–' : s.msPerStep.toFixed(1)} | ${s.loss === null ? '–' : s.loss.toFixed(3)} |`),
    '',
    `- Live tensors after every step stayed within ${r.tensorsRange[0]}–${r.tensorsRange[1]}: ${v.tensorsGrew ? 'they GREW' : 'no growth'}; tensor bytes ${v.bytesGrew ? 'GREW' : 'did not grow'}.`,
    v.settledStep === null
      ? `- JS heap and wasm memory: the run is too short to judge (it needs a sample after the first evaluation, step ${INTERVALS.evaluate}).`
      : `- JS heap (after GC) from step ${v.settledStep} (past the first evaluation) to the last step: ${v.heapDeltaBytes === null ? 'not measurable here' : `${v.heapDeltaBytes >= 0 ? '+' : ''}${(v.heapDeltaBytes / 2 ** 20).toFixed(2)} MiB, ${v.heapGrew ? 'GREW (over 1 MiB and 5%)' : 'no growth beyond 1 MiB / 5%'}`}.`,
    ...(v.wasmMemoryGrew === null ? [] : [`- wasm linear memory from step ${v.settledStep} to the last step: ${v.wasmMemoryGrew ? 'GREW' : 'no growth'}.`]),
    `- After the trainer is disposed: ${v.tensorsReturnedToStart ? 'the same tensors and bytes as before it was created' : 'tensors or bytes differ from before it was created'}.`,
    `- Validation accuracy at the end: ${Number.isNaN(r.finalAccuracy) ? '–' : r.finalAccuracy.toFixed(3)}.`,
    '',
  ];
  return lines.join('\n');
}
