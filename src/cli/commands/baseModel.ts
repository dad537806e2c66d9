/**
 * `base-model`: the model as the studio trains against it (int8 weights dequantized), float32
 * in Hugging Face layout, as a folder: what an exported adapter's card loads in Python, the
 * page's "Download base model". The weights file is written a tensor at a time: the float32
 * weights are four times the int8 ones and never all in memory.
 */
import path from 'node:path';
import { baseModelFolder } from '../../engine/adapters';
import { modelName } from '../../engine/session';
import { StudioError } from '../../errors';
import { floatPackageFiles, loadModelPackage } from '../../model/package';
import { parse, type CliIo } from '../args';
import { writeFolder, type FileBytes } from '../files';
import { folderSource, repoModelDir } from '../nodeSource';

export async function baseModelCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, { out: { type: 'string' } });
  if (values.out === undefined) throw new StudioError('cli', 'base-model needs --out DIR.');
  const from = path.resolve(values.model ?? repoModelDir());
  const to = path.resolve(values.out);
  if (from === to) throw new StudioError('cli', '--out must be another folder than --model: base-model does not overwrite the checkpoint it reads.');
  // Quantized as it loads, as the studio does: the float32 weights written are the int8 ones it trains against.
  const pkg = await loadModelPackage(folderSource(from), undefined, { quantize: true });
  const { files, weights } = floatPackageFiles(pkg);
  const written = writeFolder(to, new Map<string, FileBytes>([...files, [weights.name, weights.chunks()]]), []);
  const report = { out: to, files: written.map((file) => path.basename(file)), weight_bytes: weights.byteLength, adapter_folder_name: baseModelFolder({ name: modelName(pkg) }) };
  if (values.json) {
    io.out(JSON.stringify(report) + '\n');
    return;
  }
  io.out(`float32, the int8 weights dequantized: wrote ${report.files.join(', ')} (${report.weight_bytes} weight bytes) to ${to}\n`
    + `an adapter trained on this model loads it from a folder named "${report.adapter_folder_name}" beside its own files (its README says so)\n`);
}
