/** `predict`: adapters + a CSV of texts → a CSV of predictions (mixed batches, as the library does). */
import { StudioError } from '../../errors';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { listFlag, parse, positiveInt, type CliIo } from '../args';
import { checkOutFile, locateAdapter, readDataFile, writeFile } from '../files';
import { column, importInto, openEngine, someLabels } from './shared';

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
  // Each --adapters value is one adapter when that path exists as given (a name may hold a
  // comma), else a comma-separated list of them.
  const locations = (values.adapters ?? []).flatMap((v) => (existsSync(path.resolve(v)) ? [v] : listFlag(v)));
  if (locations.length === 0) throw new StudioError('cli', 'predict needs --adapters DIR|ZIP (once per adapter, or a comma-separated list).', 'Run with --help for usage.');
  const sources = locations.map((l) => locateAdapter(l, 'predict', '--adapters'));
  const names = sources.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new StudioError('cli', `Two adapters are named "${twice}"; rows name their prompt by the folder or zip name, so each must be unique.`,
      'Rename one of the folders (or zips).');
  }
  const { fileName, bytes } = readDataFile(values.data, 'predict');
  if (values.out !== undefined) checkOutFile(values.out, '--out');
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
    io.err(`prompt "${source.name}": ${info.method}, ${info.numVirtualTokens} virtual tokens, labels ${someLabels(info.labels)}${info.tasks.length ? `, tasks ${info.tasks.join(', ')}` : ''}\n`);
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
