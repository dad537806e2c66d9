/** `import`: checks an adapter against the model and prints what the engine makes of it. */
import path from 'node:path';
import type { AdapterInfo } from '../../engine/api';
import { parse, type CliIo } from '../args';
import { locateAdapter, readDataFile } from '../files';
import { dataOptions, importInto, loadDataset, openEngine } from './shared';

/** What an imported adapter is, as JSON (the engine's AdapterInfo without its session-local id). */
function adapterReport(info: AdapterInfo, location: string) {
  const { runId: _runId, ...rest } = info;
  return { adapter: path.resolve(location), ...rest };
}

export async function importCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, { ...dataOptions, adapter: { type: 'string' } });
  const source = locateAdapter(values.adapter, 'import');
  const file = values.data !== undefined ? readDataFile(values.data, 'import') : null;
  const { engine } = await openEngine(values, io);
  const dataset = file ? (await loadDataset(engine, values, file, io)).dataset : null;
  const info = await importInto(engine, source, dataset ? { verbalizer: dataset.verbalizer } : undefined);
  io.out(JSON.stringify(adapterReport(info, values.adapter!), null, values.json ? undefined : 2) + '\n');
}
