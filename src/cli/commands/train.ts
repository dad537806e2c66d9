/**
 * `train`: a CSV → a PEFT adapter folder (and zip); one JSON line per evaluation on stdout,
 * progress on stderr. Every training setting is a flag, named in the settings table.
 */
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { SerializedError } from '../../engine/api';
import { toArrayBuffer } from '../../formats/bytes';
import { StudioError } from '../../errors';
import { parse, type CliIo } from '../args';
import { scoringNote, validateTrainConfig } from '../../tuning/config';
import { lengthCapFor } from '../../tuning/tokenLengths';
import { checkOutFile, checkOutFolder, locateCheckpoint, readCheckpointFile, readDataFile, writeFile, writeFolder, writeRunCheckpoint } from '../files';
import { trainingFlagOptions, trainConfigFromFlags } from '../settingsFlags';
import { dataOptions, evaluationRecord, limitsOf, loadDataset, openEngine, rethrow } from './shared';
import { dryRun, estimateLine, runEstimate } from './trainPlan';

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

/** The process's exit status for a run stopped by a signal (after its prompt was written): 128 + the signal's number, as a shell reports it. */
const signalStatus = (signal: NodeJS.Signals) => 128 + (osConstants.signals[signal] ?? 0);

/** A second signal within this time is the same Ctrl-C delivered twice (the terminal sends it to npm and to us, and npm passes it on). */
const SAME_SIGNAL_MS = 1000;
/** Inside a slow step or evaluation, the CLI says where it is this often. */
const PROGRESS_LINE_MS = 10_000;

export async function trainCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parse(argv, {
    ...dataOptions,
    ...trainingFlagOptions,
    verbalizer: { type: 'string' },
    resume: { type: 'string' },
    out: { type: 'string' },
    zip: { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  const dry = values['dry-run'] === true;
  // Checked before the model loads, so a wrong command line fails at once.
  if (values.data === undefined) throw new StudioError('cli', 'train needs --data FILE.csv.', 'Run with --help for usage.');
  if (dry && (values.out !== undefined || values.zip !== undefined || values.resume !== undefined)) {
    throw new StudioError('cli', '--dry-run plans a new run and writes nothing: it takes no --out, --zip or --resume.');
  }
  if (values.out === undefined && !dry) throw new StudioError('cli', 'train needs --out DIR, the folder the adapter is written to.', 'Run with --help for usage.');
  if (values.zip !== undefined && !/\.zip$/i.test(values.zip)) throw new StudioError('cli', `--zip takes a file name ending in .zip, got "${values.zip}".`);
  // Where the results go is checked before any work: a file in the way, a folder that cannot be written, a system path.
  const outDir = dry ? '' : checkOutFolder(values.out!);
  if (values.zip !== undefined) {
    const zipFile = checkOutFile(values.zip, '--zip');
    if (zipFile.startsWith(outDir + path.sep)) {
      throw new StudioError('cli', `--zip ${values.zip} is inside the --out folder, which is replaced as a whole when the adapter is written.`,
        'Put the zip beside the folder, e.g. --out spam-prompt --zip spam-prompt.zip.');
    }
  }
  const file = readDataFile(values.data, 'train');
  const config = trainConfigFromFlags(values);
  const resumeAt = values.resume !== undefined ? locateCheckpoint(values.resume) : undefined;
  const ignored = Object.keys(config).filter((k) => k !== 'steps');
  if (resumeAt && (ignored.length || values.verbalizer !== undefined)) {
    io.err(`note: a resumed run keeps the checkpoint's settings and verbalizer; only --steps applies (ignoring ${[...ignored, ...(values.verbalizer !== undefined ? ['verbalizer'] : [])].join(', ')})\n`);
  }

  let failure: SerializedError | null = null;
  // The run's checkpoints go to --out as they are made, so a crash or kill -9 loses only the steps since the last.
  let training = false;
  let savedStep: number | null = null;
  let writeFailure: unknown = null;
  // Inside a slow step or evaluation (a real-size model: seconds to minutes), a line every 10 s,
  // counted from the last line or the last step or evaluation to end.
  let lastLineAt = Date.now();
  const progressLine = (text: string) => {
    if (Date.now() - lastLineAt < PROGRESS_LINE_MS) return;
    lastLineAt = Date.now();
    io.err(`  ${text}\n`);
  };
  const { engine, facts } = await openEngine(values, io, (e) => {
    switch (e.event) {
      case 'baseline':
        lastLineAt = Date.now();
        io.out(JSON.stringify(evaluationRecord(e.variant, e.evaluation, e.prompt !== undefined ? { prompt: e.prompt } : {})) + '\n');
        break;
      case 'evaluation':
        lastLineAt = Date.now();
        io.out(JSON.stringify(evaluationRecord(e.variant, e.evaluation)) + '\n');
        break;
      case 'stepProgress': {
        const p = e.progress;
        progressLine(`step ${p.step}: ${p.pass} pass, ${p.layer}/${p.layers} layers (${Math.floor(p.fraction * 100)}% after ${Math.round(p.elapsedMs / 1000)} s)`);
        break;
      }
      case 'evaluationProgress':
        progressLine(`scoring ${e.variant === 'soft' ? `the prompt of step ${e.step}` : `the ${e.variant} ${e.variant === 'discrete' ? 'projection' : 'baseline'}`}: ${e.done}/${e.total} examples`);
        break;
      case 'step': {
        lastLineAt = Date.now();
        const s = e.step;
        const every = Math.max(1, Math.round(s.totalSteps / 50));
        if (s.step % every === 0 || s.step === s.totalSteps || s.step === 1) {
          // The step's own time, beside the estimate printed before the first step.
          io.err(`step ${s.step}/${s.totalSteps}  loss ${s.loss.toFixed(4)}  lr ${s.learningRate.toPrecision(3)}  `
            + `${(s.stepMs / 1000).toFixed(s.stepMs < 10_000 ? 2 : 1)} s/step  ${Math.round(s.tokensPerSecond)} tok/s  eta ${Math.round(s.etaMs / 1000)} s\n`);
        }
        break;
      }
      case 'checkpoint':
        if (!training || writeFailure) break;
        try {
          writeRunCheckpoint(values.out!, new Uint8Array(e.bytes), savedStep === null);
          savedStep = e.step;
        } catch (err) {
          writeFailure = err;
          engine.stop();
        }
        break;
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
  if (dry) {
    dryRun(engine, facts, validateTrainConfig(config, { trainExamples: dataset.trainCount, tasks: dataset.tasks.length }), verbalizer, dataset, io);
    return 0;
  }
  const resumeFrom = resumeAt ? readCheckpointFile(resumeAt, limitsOf(engine)) : undefined;
  lastLineAt = Date.now();
  const info = await engine.startTraining({ config, verbalizer, ...(resumeFrom ? { resumeFrom: toArrayBuffer(resumeFrom) } : {}) });
  training = true;
  io.err(`${info.startStep > 0 ? `resuming at step ${info.startStep}: ` : ''}${info.config.method}, ${info.config.numVirtualTokens} virtual tokens, `
    + `${info.config.optimizer} lr ${info.config.learningRate}, batch ${info.config.batchSize}, ${info.config.steps} steps, max length ${info.config.maxLength}, `
    + `backend ${engine.backend?.backend}${info.truncated ? `; ${info.truncated} texts cut to ${info.config.maxLength} tokens` : ''}; `
    + `a checkpoint every ${info.config.checkpointEvery} steps goes to ${outDir}\n`);
  if (info.memory) io.err(`${info.memory.note}\n`);
  const scoring = scoringNote(info.config.scoring, info.labels.length);
  if (scoring) io.err(`${scoring} (--scoring rank ranks them instead.)\n`);
  const estimate = runEstimate(facts, info.config, dataset, engine.tokenLengths(info.config.template, undefined, lengthCapFor(info.config.maxLength)), info.memory);
  if (estimate) io.err(`${estimateLine(estimate, facts, info.config.steps - info.startStep, info.startStep > 0)}\n`);

  // Ctrl-C (SIGINT) or SIGTERM stops after the current step; the prompt trained so far is still written.
  let interrupted: { signal: NodeJS.Signals; at: number } | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      if (Date.now() - interrupted.at < SAME_SIGNAL_MS) return;
      io.err('stopped without writing the prompt; the last checkpoint is in the --out folder\n');
      process.exit(signalStatus(signal));
    }
    interrupted = { signal, at: Date.now() };
    io.err(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping after this step, then writing the prompt trained so far (Ctrl-C again to quit without writing)…\n`);
    engine.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summary;
  try {
    summary = await engine.waitForRun();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const failed = failure as SerializedError | null;
  const resumable = savedStep !== null ? ` ${outDir} holds the checkpoint of step ${savedStep}: train --resume ${values.out} continues from it.` : '';
  if (writeFailure) {
    const e = writeFailure instanceof StudioError ? writeFailure : new StudioError('cli', String(writeFailure));
    throw new StudioError(e.code, `The run was stopped: ${e.message}`, `${e.hint ?? ''}${resumable}`.trim() || undefined);
  }
  if (failed) {
    if (resumable) io.err(`note:${resumable}\n`);
    rethrow(failed);
  }
  if (!summary) throw new StudioError('training', 'The run ended without a result.');
  io.err(`${summary.message}\n`);

  const files = await engine.exportAdapterFiles();
  writeFolder(values.out!, files);
  io.err(`wrote ${[...files.keys()].join(', ')} to ${outDir}\n`);
  if (values.zip !== undefined) {
    // The zip of exactly these files: the folder imported and exported again (a studio
    // adapter re-exports byte for byte), so folder and zip carry the same checkpoint and dates.
    await engine.importAdapter({ fileName: path.basename(values.out!), files });
    const { bytes } = await engine.exportAdapter();
    io.err(`wrote ${writeFile(values.zip, bytes, '--zip')}\n`);
  }
  const stoppedBy = interrupted as { signal: NodeJS.Signals } | null;
  return stoppedBy ? signalStatus(stoppedBy.signal) : 0;
}
