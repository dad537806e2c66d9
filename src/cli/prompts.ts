/**
 * The CLI's soft-prompt commands, each a thin layer over StudioEngine so that a terminal
 * run writes the same files and numbers as the studio page:
 *   train    a CSV → a PEFT adapter folder (and zip); one JSON line per evaluation on stdout
 *   eval     an adapter + a CSV → accuracy, macro-F1, loss and per-class metrics as JSON
 *   export   an adapter folder ↔ zip, re-exported by the engine (a studio adapter byte for byte)
 *   import   checks an adapter against the model and prints what the engine makes of it
 *   predict  adapters + a CSV of texts → a CSV of predictions (mixed batches, as the library does)
 */
import path from 'node:path';
import { StudioEngine } from '../engine/studio';
import { StudioError, type StudioErrorCode } from '../errors';
import type { ColumnMapping } from '../data';
import { readAdapterBundle } from '../formats/bundle';
import type { TrainConfig } from '../tuning/config';
import type { MethodKind } from '../tuning/methods/types';
import type { InitKind } from '../tuning/init';
import type { OptimizerKind } from '../tuning/optimizers';
import type { AdapterInfo, DatasetSummary, EngineEvent, EvaluationSummary, PromptVariant, SerializedError, TableSummary } from '../engine/api';
import {
  finiteNumber, listFlag, nodeBackendName, nonNegativeInt, oneOf, parse, positiveInt, type CliIo,
} from './args';
import { readAdapterSource, readCheckpointFile, readDataFile, writeFile, writeFolder, type AdapterSource } from './files';
import { folderSource, repoModelDir } from './nodeSource';

/** The page's default split (src/state/dataStore.ts DEFAULT_SPLIT): the same CSV splits the same way here. */
export const DEFAULT_VALIDATION_FRACTION = 0.2;
export const DEFAULT_SPLIT_SEED = 42;

const dataOptions = {
  data: { type: 'string' },
  'text-column': { type: 'string', multiple: true },
  'label-column': { type: 'string' },
  'task-column': { type: 'string' },
  'split-column': { type: 'string' },
  'validation-fraction': { type: 'string' },
  'split-seed': { type: 'string' },
} as const;

type DataValues = {
  data?: string;
  'text-column'?: string[];
  'label-column'?: string;
  'task-column'?: string;
  'split-column'?: string;
  'validation-fraction'?: string;
  'split-seed'?: string;
};

const toArrayBuffer = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/**
 * The soft-prompt commands run on wasm unless told otherwise: it trains over 10× faster than
 * cpu, and it is what `npm run results` trains on. An adapter evaluates the same on the
 * backend it was trained on.
 */
export const PROMPT_COMMANDS_BACKEND = 'wasm';

/** An engine on a Node backend with the model loaded; events go to `onEvent`. */
async function openEngine(values: { backend?: string; model?: string }, io: CliIo, onEvent: (e: EngineEvent) => void = () => {}) {
  const backend = nodeBackendName(values, PROMPT_COMMANDS_BACKEND);
  const engine = new StudioEngine((e) => {
    if (e.event === 'log') io.err(`${e.level}: ${e.message}\n`);
    onEvent(e);
  });
  await engine.init(backend);
  const facts = await engine.loadModel(folderSource(values.model ?? repoModelDir()));
  return { engine, facts };
}

/** "" means "no such column" (to turn off a guessed task or split column). */
const column = (value: string | undefined, guessed: string | null) => (value === undefined ? guessed : value.trim() === '' ? null : value);

/** The mapping: the columns given, else the guess (as the Data step pre-fills it). */
export function columnMapping(values: DataValues, table: TableSummary): ColumnMapping {
  const given = values['text-column'] ?? [];
  const mapping: ColumnMapping = {
    textColumns: given.length ? given : table.guess.textColumns,
    labelColumn: column(values['label-column'], table.guess.labelColumn),
    taskColumn: column(values['task-column'], table.guess.taskColumn),
    splitColumn: column(values['split-column'], table.guess.splitColumn),
  };
  const available = `Its columns: ${table.columns.join(', ')}.`;
  if (mapping.textColumns.length === 0) {
    throw new StudioError('cli', `No text column was given and none could be recognised in ${table.fileName}.`, `Pass --text-column NAME. ${available}`);
  }
  if (!mapping.labelColumn) {
    throw new StudioError('cli', `No label column was given and none could be recognised in ${table.fileName}.`, `Pass --label-column NAME. ${available}`);
  }
  return mapping;
}

type DataFile = ReturnType<typeof readDataFile>;

/** Loads --data and builds the labeled dataset, saying on stderr what was used. */
async function loadDataset(engine: StudioEngine, values: DataValues, file: DataFile, io: CliIo): Promise<{ table: TableSummary; dataset: DatasetSummary; mapping: ColumnMapping }> {
  const { fileName, bytes } = file;
  const table = await engine.loadTable(fileName, bytes);
  const mapping = columnMapping(values, table);
  const validationFraction = finiteNumber(values['validation-fraction'], '--validation-fraction', DEFAULT_VALIDATION_FRACTION);
  const seed = nonNegativeInt(values['split-seed'], '--split-seed', DEFAULT_SPLIT_SEED);
  const dataset = engine.buildDataset(mapping, { validationFraction, seed, splitColumn: mapping.splitColumn });
  const described = [`text ${mapping.textColumns.map((c) => `"${c}"`).join(' + ')}`, `label "${mapping.labelColumn}"`];
  if (mapping.taskColumn) described.push(`task "${mapping.taskColumn}"`);
  described.push(mapping.splitColumn ? `split "${mapping.splitColumn}"` : `random split ${validationFraction} (seed ${seed})`);
  io.err(`${fileName}: ${table.rowCount} rows; ${described.join(', ')}; ${dataset.trainCount} training / ${dataset.validationCount} validation examples; `
    + `labels ${dataset.labels.map((l) => `${l.name} (${l.count})`).join(', ')}${dataset.tasks.length ? `; tasks ${dataset.tasks.join(', ')}` : ''}\n`);
  if (dataset.rejected.length) {
    const first = dataset.rejected.slice(0, 3).map((r) => `line ${r.line}: ${r.reason}`).join('; ');
    io.err(`warning: ${dataset.rejected.length} rows skipped (${first}${dataset.rejected.length > 3 ? '; …' : ''})\n`);
  }
  for (const w of [...table.warnings, ...dataset.warnings]) io.err(`warning: ${w}\n`);
  return { table, dataset, mapping };
}

/** One evaluation as a flat JSON record (the line train prints, the object eval prints). */
function evaluationRecord(variant: PromptVariant, e: EvaluationSummary, extra: Record<string, unknown> = {}) {
  return {
    variant,
    step: e.step,
    examples: e.examples,
    loss: e.loss,
    accuracy: e.report.accuracy,
    macro_f1: e.report.macroF1,
    ...extra,
  };
}

function perClass(e: EvaluationSummary) {
  return {
    per_class: e.report.perClass.map((c) => ({ label: c.label, precision: c.precision, recall: c.recall, f1: c.f1, support: c.support })),
    confusion: e.report.confusion,
  };
}

function rethrow(error: SerializedError): never {
  const codes: StudioErrorCode[] = ['csv', 'data', 'safetensors', 'model', 'tokenizer', 'config', 'settings', 'adapter', 'checkpoint', 'training'];
  throw new StudioError(codes.includes(error.code as StudioErrorCode) ? error.code as StudioErrorCode : 'training', error.message, error.hint);
}

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

/** The training settings the flags give; the rest are the studio's defaults (validateTrainConfig). */
export function trainConfigFromFlags(values: Record<string, string | boolean | string[] | undefined>): Partial<TrainConfig> {
  const s = (k: string) => values[k] as string | undefined;
  const config: Partial<TrainConfig> = {};
  const set = <K extends keyof TrainConfig>(key: K, value: TrainConfig[K] | undefined) => {
    if (value !== undefined) config[key] = value;
  };
  set('method', oneOf<MethodKind>(s('method'), '--method', ['prompt', 'ptuning-mlp', 'ptuning-lstm', 'prefix', 'multitask']));
  set('numVirtualTokens', s('virtual-tokens') === undefined ? undefined : positiveInt(s('virtual-tokens'), '--virtual-tokens', 0));
  set('init', oneOf<InitKind>(s('init'), '--init', ['random', 'vocab', 'text', 'labels']));
  set('initText', s('init-text'));
  set('steps', s('steps') === undefined ? undefined : positiveInt(s('steps'), '--steps', 0));
  set('learningRate', s('lr') === undefined ? undefined : finiteNumber(s('lr'), '--lr', 0));
  set('batchSize', s('batch-size') === undefined ? undefined : positiveInt(s('batch-size'), '--batch-size', 0));
  set('optimizer', oneOf<OptimizerKind>(s('optimizer'), '--optimizer', ['adamw', 'adafactor']));
  set('maxLength', s('max-length') === undefined ? undefined : positiveInt(s('max-length'), '--max-length', 0));
  set('template', s('template'));
  set('seed', s('seed') === undefined ? undefined : nonNegativeInt(s('seed'), '--seed', 0));
  set('evalEvery', s('eval-every') === undefined ? undefined : positiveInt(s('eval-every'), '--eval-every', 0));
  set('warmupSteps', s('warmup-steps') === undefined ? undefined : nonNegativeInt(s('warmup-steps'), '--warmup-steps', 0));
  return config;
}

// ---- train ------------------------------------------------------------------------------

export async function trainCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {
    ...dataOptions,
    method: { type: 'string' },
    'virtual-tokens': { type: 'string' },
    init: { type: 'string' },
    'init-text': { type: 'string' },
    steps: { type: 'string' },
    lr: { type: 'string' },
    'batch-size': { type: 'string' },
    optimizer: { type: 'string' },
    'max-length': { type: 'string' },
    template: { type: 'string' },
    seed: { type: 'string' },
    'eval-every': { type: 'string' },
    'warmup-steps': { type: 'string' },
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

// ---- adapters ---------------------------------------------------------------------------

/** Imports an adapter; with `dataset` its labels (for a plain PEFT adapter) and verbalizer are the fallback. */
async function importInto(engine: StudioEngine, source: AdapterSource, fallback?: { verbalizer?: Record<string, string>; template?: string }, command = ''): Promise<AdapterInfo> {
  if (!fallback && readAdapterBundle(source.files ?? source.zip!).studio === null) {
    throw new StudioError('cli', `${source.fileName} is a plain PEFT adapter (no studio.json), so its labels are unknown.`,
      command === 'predict'
        ? 'Make it a studio adapter first: `export --adapter DIR --data TRAIN.csv --out DIR2` takes the labels from the data.'
        : 'Pass --data FILE.csv with the labels it was trained for.');
  }
  return engine.importAdapter({
    fileName: source.fileName,
    ...(source.files ? { files: source.files } : { zip: source.zip! }),
    ...(fallback ? { fallback } : {}),
  });
}

/** What an imported adapter is, as JSON (the engine's AdapterInfo without its session-local id). */
function adapterReport(info: AdapterInfo, location: string) {
  const { runId: _runId, ...rest } = info;
  return { adapter: path.resolve(location), ...rest };
}

export async function evalCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {
    ...dataOptions,
    adapter: { type: 'string' },
    all: { type: 'boolean', default: false },
    baselines: { type: 'boolean', default: false },
    template: { type: 'string' },
  });
  const source = readAdapterSource(values.adapter, 'eval');
  if (values.data === undefined) throw new StudioError('cli', 'eval needs --data FILE.csv, the labeled data to score the adapter on.', 'Run with --help for usage.');
  const file = readDataFile(values.data, 'eval');
  const { engine } = await openEngine(values, io);
  const { dataset, table } = await loadDataset(engine, values, file, io);
  const info = await importInto(engine, source, { verbalizer: dataset.verbalizer, ...(values.template !== undefined ? { template: values.template } : {}) });
  if (!info.evaluable) {
    throw new StudioError('cli', `The labels of ${table.fileName} (${dataset.labels.map((l) => l.name).join(', ')}) are not the adapter's (${info.labels.join(', ')}).`,
      'Pass the data the adapter was trained for, and --label-column if its label column is not the one guessed.');
  }
  const scope = values.all ? 'all' : 'validation';
  const soft = await engine.evaluate('soft', scope);
  const report: Record<string, unknown> = {
    adapter: path.resolve(values.adapter!),
    data: path.resolve(values.data),
    scope,
    method: info.method,
    labels: info.labels,
    ...evaluationRecord('soft', soft, perClass(soft)),
  };
  delete report.step;
  if (info.metrics && typeof info.metrics.step === 'number') report.trained_steps = info.metrics.step;
  if (values.baselines) {
    const baselines: Record<string, unknown> = {};
    for (const variant of ['zero-shot', 'text'] as const) {
      const e = await engine.evaluate(variant, scope);
      const { step: _step, ...rest } = evaluationRecord(variant, e, perClass(e));
      baselines[variant] = rest;
    }
    report.baselines = baselines;
  }
  io.out(JSON.stringify(report, null, values.json ? undefined : 2) + '\n');
}

export async function exportCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, { ...dataOptions, adapter: { type: 'string' }, out: { type: 'string' } });
  const source = readAdapterSource(values.adapter, 'export');
  if (values.out === undefined) throw new StudioError('cli', 'export needs --out DIR or --out FILE.zip.', 'Run with --help for usage.');
  const file = values.data !== undefined ? readDataFile(values.data, 'export') : null;
  const { engine } = await openEngine(values, io);
  // A plain PEFT adapter (no studio.json) takes its labels from --data.
  const dataset = file ? (await loadDataset(engine, values, file, io)).dataset : null;
  const info = await importInto(engine, source, dataset ? { verbalizer: dataset.verbalizer } : undefined);
  if (/\.zip$/i.test(values.out)) {
    const { bytes } = await engine.exportAdapter();
    const file = writeFile(values.out, bytes);
    io.err(`wrote ${file} (${bytes.byteLength} bytes)\n`);
    if (values.json) io.out(JSON.stringify({ out: file, files: null, bytes: bytes.byteLength, fromStudio: info.fromStudio }) + '\n');
  } else {
    const files = await engine.exportAdapterFiles();
    const written = writeFolder(values.out, files);
    io.err(`wrote ${[...files.keys()].join(', ')} to ${path.resolve(values.out)}\n`);
    if (values.json) io.out(JSON.stringify({ out: path.resolve(values.out), files: written.map((f) => path.basename(f)), fromStudio: info.fromStudio }) + '\n');
  }
}

export async function importCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, { ...dataOptions, adapter: { type: 'string' } });
  const source = readAdapterSource(values.adapter, 'import');
  const file = values.data !== undefined ? readDataFile(values.data, 'import') : null;
  const { engine } = await openEngine(values, io);
  const dataset = file ? (await loadDataset(engine, values, file, io)).dataset : null;
  const info = await importInto(engine, source, dataset ? { verbalizer: dataset.verbalizer } : undefined);
  io.out(JSON.stringify(adapterReport(info, values.adapter!), null, values.json ? undefined : 2) + '\n');
}

export async function predictCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {
    adapters: { type: 'string', multiple: true },
    data: { type: 'string' },
    'text-column': { type: 'string' },
    'prompt-column': { type: 'string' },
    'task-column': { type: 'string' },
    'batch-size': { type: 'string' },
    out: { type: 'string' },
  });
  const locations = listFlag(values.adapters);
  if (locations.length === 0) throw new StudioError('cli', 'predict needs --adapters DIR|ZIP[,DIR|ZIP…].', 'Run with --help for usage.');
  const sources = locations.map((l) => readAdapterSource(l, 'predict', '--adapters'));
  const names = sources.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new StudioError('cli', `Two adapters are named "${twice}"; rows name their prompt by the folder or zip name, so each must be unique.`,
      'Rename one of the folders (or zips).');
  }
  const { fileName, bytes } = readDataFile(values.data, 'predict');
  if (values['prompt-column'] === undefined && sources.length > 1) {
    throw new StudioError('cli', `With ${sources.length} adapters, each row must name its prompt: pass --prompt-column COLUMN.`,
      `Its values are the adapters' names: ${names.join(', ')}.`);
  }
  const batchSize = positiveInt(values['batch-size'], '--batch-size', 16);
  const { engine } = await openEngine(values, io, (e) => {
    if (e.event === 'batchProgress' && e.done === e.total) io.err(`predicted ${e.done} rows\n`);
  });
  for (const source of sources) {
    const info = await importInto(engine, source, undefined, 'predict');
    await engine.addToLibrary(source.name);
    io.err(`prompt "${source.name}": ${info.method}, ${info.numVirtualTokens} virtual tokens, labels ${info.labels.join(', ')}${info.tasks.length ? `, tasks ${info.tasks.join(', ')}` : ''}\n`);
  }
  // The text (and task) column as the Data step would guess them, when not given.
  const table = await engine.loadTable(fileName, bytes);
  const textColumn = values['text-column'] ?? table.guess.textColumns[0];
  if (textColumn === undefined) throw new StudioError('cli', `No text column was given and none could be recognised in ${fileName}.`, `Pass --text-column NAME. Its columns: ${table.columns.join(', ')}.`);
  const taskColumn = column(values['task-column'], table.guess.taskColumn) ?? undefined;
  const result = await engine.batchPredict({
    fileName, bytes, textColumn, batchSize,
    ...(values['prompt-column'] !== undefined ? { promptColumn: values['prompt-column'] } : { prompt: sources[0].name }),
    ...(taskColumn !== undefined ? { taskColumn } : {}),
  });
  if (result.failed > 0) io.err(`warning: ${result.failed} of ${result.rows} rows could not be predicted (see the error column)\n`);
  if (values.out !== undefined) {
    io.err(`wrote ${writeFile(values.out, result.csv)} (${result.rows} rows)\n`);
  } else {
    io.out(result.csv.endsWith('\n') ? result.csv : `${result.csv}\n`);
  }
}
