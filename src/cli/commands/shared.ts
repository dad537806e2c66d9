/**
 * What the soft-prompt commands share: an engine on a Node backend with the model loaded,
 * the data flags and how they become a dataset, evaluation records as JSON, and importing
 * an adapter given on the command line.
 */
import { DEFAULT_SPLIT, listSome, type ColumnMapping } from '../../data';
import type { AdapterInfo, DatasetSummary, EngineEvent, EvaluationSummary, PromptVariant, SerializedError, TableSummary } from '../../engine/api';
import { StudioEngine } from '../../engine/studio';
import { isStudioError, StudioError, type StudioErrorCode } from '../../errors';
import { adapterFileNames, STUDIO_FILE, type BundleLimits } from '../../formats/bundle';
import { bundleLimits } from '../../engine/runFiles';
import { finiteNumber, nodeBackendName, nonNegativeInt, type CliIo } from '../args';
import { readAdapter, type AdapterLocation, type readDataFile } from '../files';
import { folderSource, repoModelDir } from '../nodeSource';

export const dataOptions = {
  data: { type: 'string' },
  header: { type: 'boolean' },
  'no-header': { type: 'boolean' },
  'text-column': { type: 'string', multiple: true },
  'label-column': { type: 'string' },
  'task-column': { type: 'string' },
  'split-column': { type: 'string' },
  'validation-fraction': { type: 'string' },
  'split-seed': { type: 'string' },
} as const;

export type DataValues = {
  data?: string;
  header?: boolean;
  'no-header'?: boolean;
  'text-column'?: string[];
  'label-column'?: string;
  'task-column'?: string;
  'split-column'?: string;
  'validation-fraction'?: string;
  'split-seed'?: string;
};

/**
 * The soft-prompt commands run on wasm unless told otherwise: it trains over 10× faster than
 * cpu, and it is what `npm run results` trains on. An adapter evaluates the same on the
 * backend it was trained on.
 */
export const PROMPT_COMMANDS_BACKEND = 'wasm';

/** An engine on a Node backend with the model loaded; events go to `onEvent`. */
export async function openEngine(values: { backend?: string; model?: string }, io: CliIo, onEvent: (e: EngineEvent) => void = () => {}) {
  const backend = nodeBackendName(values, PROMPT_COMMANDS_BACKEND);
  const engine = new StudioEngine((e) => {
    if (e.event === 'log') io.err(`${e.level === 'warn' ? 'warning' : e.level}: ${e.message}\n`);
    onEvent(e);
  });
  await engine.init(backend);
  const facts = await engine.loadModel(folderSource(values.model ?? repoModelDir()));
  return { engine, facts };
}

/** --header / --no-header: whether the first line names the columns; guessed when neither is given. */
export function headerOption(values: Pick<DataValues, 'header' | 'no-header'>): { hasHeader?: boolean } {
  if (values.header && values['no-header']) throw new StudioError('cli', 'Give --header or --no-header, not both.');
  if (values.header) return { hasHeader: true };
  if (values['no-header']) return { hasHeader: false };
  return {};
}

/** "" means "no such column" (to turn off a guessed task or split column). */
export const column = (value: string | undefined, guessed: string | null) => (value === undefined ? guessed : value.trim() === '' ? null : value);

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

export type DataFile = ReturnType<typeof readDataFile>;

/** Loads --data and builds the labeled dataset, saying on stderr what was used. */
export async function loadDataset(engine: StudioEngine, values: DataValues, file: DataFile, io: CliIo): Promise<{ table: TableSummary; dataset: DatasetSummary; mapping: ColumnMapping }> {
  const { fileName, bytes } = file;
  const header = headerOption(values);
  let table: TableSummary;
  try {
    table = await engine.loadTable(fileName, bytes, header);
  } catch (e) {
    // The engine's words are for the page, where the file is in view: here, name it.
    throw isStudioError(e) && e.code === 'csv' ? new StudioError(e.code, `${values.data ?? fileName}: ${e.message}`, e.hint) : e;
  }
  const mapping = columnMapping(values, table);
  const validationFraction = finiteNumber(values['validation-fraction'], '--validation-fraction', DEFAULT_SPLIT.validationFraction);
  const seed = nonNegativeInt(values['split-seed'], '--split-seed', DEFAULT_SPLIT.seed);
  const dataset = engine.buildDataset(mapping, { validationFraction, seed, splitColumn: mapping.splitColumn });
  const described = [`text ${mapping.textColumns.map((c) => `"${c}"`).join(' + ')}`, `label "${mapping.labelColumn}"`];
  if (mapping.taskColumn) described.push(`task "${mapping.taskColumn}"`);
  described.push(mapping.splitColumn ? `split "${mapping.splitColumn}"` : `random split ${validationFraction} (seed ${seed})`);
  io.err(`${fileName}: ${table.rowCount} rows; ${described.join(', ')}; ${dataset.trainCount} training / ${dataset.validationCount} validation examples; `
    + `labels ${someLabels(dataset.labels.map((l) => `${l.name} (${l.count})`))}${dataset.tasks.length ? `; tasks ${dataset.tasks.join(', ')}` : ''}\n`);
  if (dataset.rejected.length) {
    const first = dataset.rejected.slice(0, 3).map((r) => `line ${r.line}: ${r.reason}`).join('; ');
    io.err(`warning: ${dataset.rejected.length} rows skipped (${first}${dataset.rejected.length > 3 ? '; …' : ''})\n`);
  }
  for (const w of [...table.warnings, ...dataset.warnings]) io.err(`warning: ${w}\n`);
  return { table, dataset, mapping };
}

/** Labels for a line of the terminal: the first dozen, and how many more (free-text targets come by the thousand). */
export function someLabels(labels: string[]): string {
  return listSome(labels, 12);
}

/** One evaluation as a flat JSON record (the line train prints, the object eval prints). */
export function evaluationRecord(variant: PromptVariant, e: EvaluationSummary, extra: Record<string, unknown> = {}) {
  return {
    variant,
    step: e.step,
    examples: e.examples,
    loss: e.loss,
    accuracy: e.report.accuracy,
    macro_f1: e.report.macroF1,
    // Greedy decoding writes the label (what model.generate answers): the paper's exact match.
    generation_accuracy: e.generationAccuracy ?? null,
    ...extra,
  };
}

export function perClass(e: EvaluationSummary) {
  return {
    per_class: e.report.perClass.map((c) => ({ label: c.label, precision: c.precision, recall: c.recall, f1: c.f1, support: c.support })),
    confusion: e.report.confusion,
  };
}

export function rethrow(error: SerializedError): never {
  const codes: StudioErrorCode[] = ['csv', 'data', 'safetensors', 'model', 'tokenizer', 'config', 'settings', 'adapter', 'checkpoint', 'training'];
  throw new StudioError(codes.includes(error.code as StudioErrorCode) ? error.code as StudioErrorCode : 'training', error.message, error.hint);
}

/** What an adapter's files may hold for the engine's model (its dimensions bound them). */
export function limitsOf(engine: StudioEngine): BundleLimits {
  return bundleLimits(engine.session!.pkg.config);
}

/**
 * Reads and imports an adapter, once: a zip is unpacked by the engine alone, within the
 * model's limits. With `fallback`, a plain PEFT adapter takes its labels from the data.
 */
export async function importInto(engine: StudioEngine, located: AdapterLocation, fallback?: { verbalizer?: Record<string, string>; template?: string }, command = ''): Promise<AdapterInfo> {
  const source = readAdapter(located, limitsOf(engine));
  // Only the zip's directory is read to see whether it has a studio.json.
  if (!fallback && !adapterFileNames(source.files ?? source.zip!).includes(STUDIO_FILE)) {
    throw new StudioError('cli', `${source.fileName} is a plain PEFT adapter (no studio.json), so its labels are unknown.`,
      command === 'predict' || command === 'generate'
        ? 'Make it a studio adapter first: `export --adapter DIR --data TRAIN.csv --out DIR2` takes the labels from the data.'
        : 'Pass --data FILE.csv with the labels it was trained for.');
  }
  return engine.importAdapter({
    fileName: source.fileName,
    ...(source.files ? { files: source.files } : { zip: source.zip! }),
    ...(fallback ? { fallback } : {}),
  });
}
