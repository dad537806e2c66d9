/**
 * `train`: a CSV → a PEFT adapter folder (and zip); one JSON line per evaluation on stdout,
 * progress on stderr. Every training setting is a flag, named in the settings table.
 */
import path from 'node:path';
import type { SerializedError } from '../../engine/api';
import { toArrayBuffer } from '../../formats/bytes';
import { StudioError } from '../../errors';
import { parse, type CliIo } from '../args';
import { readCheckpointFile, readDataFile, writeFile, writeFolder } from '../files';
import { trainingFlagOptions, trainConfigFromFlags } from '../settingsFlags';
import { dataOptions, evaluationRecord, loadDataset, openEngine, rethrow } from './shared';

function parseVerbalizer(text: string | undefined, labels: string[]): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StudioError('cli', '--verbalizer must be a JSON object of label → text, e.g. \'{"ham":" ham","spam":" spam"}\'.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new StudioError('cli', '--verbalizer must be a JSON object of label → text.');
  }
  const missing = labels.filter((l) => !(l in (parsed as object)));
  if (missing.length) throw new StudioError('cli', `--verbalizer has no text for the label${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`);
  return parsed as Record<string, string>;
}

export async function trainCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {
    ...dataOptions,
    ...trainingFlagOptions,
    verbalizer: { type: 'string' },
    resume: { type: 'string' },
    out: { type: 'string' },
    zip: { type: 'string' },
  });
  // Checked before the model loads, so a wrong command line fails at once.
  if (values.data === undefined) throw new StudioError('cli', 'train needs --data FILE.csv.', 'Run with --help for usage.');
  if (values.out === undefined) throw new StudioError('cli', 'train needs --out DIR, the folder the adapter is written to.', 'Run with --help for usage.');
  if (values.zip !== undefined && !/\.zip$/i.test(values.zip)) throw new StudioError('cli', `--zip takes a file name ending in .zip, got "${values.zip}".`);
  const file = readDataFile(values.data, 'train');
  const config = trainConfigFromFlags(values);
  const resumeFrom = values.resume !== undefined ? readCheckpointFile(values.resume) : undefined;
  const ignored = Object.keys(config).filter((k) => k !== 'steps');
  if (resumeFrom && (ignored.length || values.verbalizer !== undefined)) {
    io.err(`note: a resumed run keeps the checkpoint's settings and verbalizer; only --steps applies (ignoring ${[...ignored, ...(values.verbalizer !== undefined ? ['verbalizer'] : [])].join(', ')})\n`);
  }

  let failure: SerializedError | null = null;
  const { engine } = await openEngine(values, io, (e) => {
    switch (e.event) {
      case 'baseline':
        io.out(JSON.stringify(evaluationRecord(e.variant, e.evaluation, e.prompt !== undefined ? { prompt: e.prompt } : {})) + '\n');
        break;
      case 'evaluation':
        io.out(JSON.stringify(evaluationRecord(e.variant, e.evaluation)) + '\n');
        break;
      case 'step': {
        const s = e.step;
        const every = Math.max(1, Math.round(s.totalSteps / 50));
        if (s.step % every === 0 || s.step === s.totalSteps || s.step === 1) {
          io.err(`step ${s.step}/${s.totalSteps}  loss ${s.loss.toFixed(4)}  lr ${s.learningRate.toPrecision(3)}  `
            + `${Math.round(s.tokensPerSecond)} tok/s  eta ${Math.round(s.etaMs / 1000)} s\n`);
        }
        break;
      }
      case 'trainingPhase':
        if (e.phase === 'baseline') io.err('evaluating the zero-shot and text baselines…\n');
        if (e.phase === 'finishing') io.err('evaluating the discrete projection…\n');
        break;
      case 'trainingError':
        failure = e.error;
        break;
      default:
    }
  });
  const { dataset } = await loadDataset(engine, values, file, io);
  const verbalizer = parseVerbalizer(values.verbalizer, dataset.labels.map((l) => l.name)) ?? dataset.verbalizer;
  const info = await engine.startTraining({ config, verbalizer, ...(resumeFrom ? { resumeFrom: toArrayBuffer(resumeFrom) } : {}) });
  io.err(`${info.startStep > 0 ? `resuming at step ${info.startStep}: ` : ''}${info.config.method}, ${info.config.numVirtualTokens} virtual tokens, `
    + `${info.config.optimizer} lr ${info.config.learningRate}, batch ${info.config.batchSize}, ${info.config.steps} steps, max length ${info.config.maxLength}, `
    + `backend ${engine.backend?.backend}${info.truncated ? `; ${info.truncated} texts cut to ${info.config.maxLength} tokens` : ''}\n`);

  // Ctrl-C stops after the current step; the prompt trained so far is still written.
  let interrupts = 0;
  const onInterrupt = () => {
    if (++interrupts > 1) process.exit(130);
    io.err('stopping after this step (Ctrl-C again to quit without writing)…\n');
    engine.stop();
  };
  process.on('SIGINT', onInterrupt);
  let summary;
  try {
    summary = await engine.waitForRun();
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  const failed = failure as SerializedError | null;
  if (failed) rethrow(failed);
  if (!summary) throw new StudioError('training', 'The run ended without a result.');
  io.err(`${summary.message}\n`);

  const files = await engine.exportAdapterFiles();
  const written = writeFolder(values.out, files);
  io.err(`wrote ${[...files.keys()].join(', ')} to ${path.dirname(written[0])}\n`);
  if (values.zip !== undefined) {
    // The zip of exactly these files: the folder imported and exported again (a studio
    // adapter re-exports byte for byte), so folder and zip carry the same checkpoint and dates.
    await engine.importAdapter({ fileName: path.basename(values.out), files });
    const { bytes } = await engine.exportAdapter();
    io.err(`wrote ${writeFile(values.zip, bytes)}\n`);
  }
}
