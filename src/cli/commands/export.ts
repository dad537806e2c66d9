/** `export`: an adapter folder ↔ zip, re-exported by the engine (a studio adapter byte for byte). */
import path from 'node:path';
import { StudioError } from '../../errors';
import { parse, type CliIo } from '../args';
import { checkOutFile, checkOutFolder, locateAdapter, readDataFile, writeFile, writeFolder } from '../files';
import { dataOptions, importInto, loadDataset, openEngine } from './shared';

export async function exportCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, { ...dataOptions, adapter: { type: 'string' }, out: { type: 'string' } });
  const source = locateAdapter(values.adapter, 'export');
  if (values.out === undefined) throw new StudioError('cli', 'export needs --out DIR or --out FILE.zip.', 'Run with --help for usage.');
  if (/\.zip$/i.test(values.out)) checkOutFile(values.out, '--out');
  else checkOutFolder(values.out);
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
