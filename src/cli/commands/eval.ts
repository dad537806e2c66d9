/** `eval`: an adapter + a CSV → accuracy, macro-F1, loss and per-class metrics as JSON. */
import path from 'node:path';
import { StudioError } from '../../errors';
import { parse, type CliIo } from '../args';
import { locateAdapter, readDataFile } from '../files';
import { dataOptions, evaluationRecord, importInto, loadDataset, openEngine, perClass, someLabels } from './shared';

export async function evalCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {
    ...dataOptions,
    adapter: { type: 'string' },
    all: { type: 'boolean', default: false },
    baselines: { type: 'boolean', default: false },
    template: { type: 'string' },
  });
  const source = locateAdapter(values.adapter, 'eval');
  if (values.data === undefined) throw new StudioError('cli', 'eval needs --data FILE.csv, the labeled data to score the adapter on.', 'Run with --help for usage.');
  const file = readDataFile(values.data, 'eval');
  const { engine } = await openEngine(values, io);
  const { dataset, table } = await loadDataset(engine, values, file, io);
  const info = await importInto(engine, source, { verbalizer: dataset.verbalizer, ...(values.template !== undefined ? { template: values.template } : {}) });
  if (!info.evaluable) {
    throw new StudioError('cli', `The labels of ${table.fileName} (${someLabels(dataset.labels.map((l) => l.name))}) are not the adapter's (${someLabels(info.labels)}).`,
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
    // Free-text targets without an init text have no text prompt to try (engine/run.ts, promptFor).
    const textPrompt = info.run.config.scoring !== 'target' || info.run.config.initText.trim() !== '';
    for (const variant of textPrompt ? ['zero-shot', 'text'] as const : ['zero-shot'] as const) {
      const e = await engine.evaluate(variant, scope);
      const { step: _step, ...rest } = evaluationRecord(variant, e, perClass(e));
      baselines[variant] = rest;
    }
    report.baselines = baselines;
  }
  io.out(JSON.stringify(report, null, values.json ? undefined : 2) + '\n');
}
