/** `convert`: a float Hugging Face checkpoint → the studio's int8 package. */
import path from 'node:path';
import { ModelSession } from '../../engine/session';
import { StudioError } from '../../errors';
import { loadModelPackage, quantizeOnLoad, saveStudioPackage } from '../../model/package';
import { nodeBackend, parse, type CliIo } from '../args';
import { checkOutFolder, writeFolder } from '../files';
import { folderSource } from '../nodeSource';

export async function convertCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, { out: { type: 'string' } });
  if (values.model === undefined || values.out === undefined) throw new StudioError('cli', 'convert needs --model DIR and --out DIR.');
  const from = path.resolve(values.model);
  const to = path.resolve(values.out);
  if (from === to) throw new StudioError('cli', '--out must be another folder than --model: convert does not overwrite the checkpoint it reads.');
  checkOutFolder(values.out);
  const original = await loadModelPackage(folderSource(from));
  const pkg = quantizeOnLoad(original);
  // Building the model once checks every shape against config.json before anything is written.
  ModelSession.fromPackage(pkg, await nodeBackend(values)).dispose();
  const files = saveStudioPackage(pkg);
  writeFolder(to, files, []);
  const sum = (byDtype: Record<string, number>) => Object.values(byDtype).reduce((a, b) => a + b, 0);
  const report = {
    out: to,
    files: [...files.keys()],
    already_quantized: original === pkg,
    weight_bytes_before: sum(original.weights.bytesByDtype()),
    weight_bytes_after: sum(pkg.weights.bytesByDtype()),
    bytes_by_dtype: pkg.weights.bytesByDtype(),
  };
  if (values.json) {
    io.out(JSON.stringify(report) + '\n');
    return;
  }
  io.out(`${report.already_quantized ? 'already int8; copied' : 'int8'}: ${report.weight_bytes_before} → ${report.weight_bytes_after} weight bytes `
    + `(${Object.entries(report.bytes_by_dtype).map(([k, v]) => `${k} ${v}`).join(', ')})\nwrote ${report.files.join(', ')} to ${to}\n`);
}
