/** `convert`: a float Hugging Face checkpoint → the studio's int8 package. */
import path from 'node:path';
import { ModelSession } from '../../engine/session';
import { StudioError } from '../../errors';
import { dtypeBytes, elementCount, outlineSafetensors, safetensorsHeaderBytes } from '../../formats/safetensors';
import { loadModelPackage, saveStudioPackage, type ModelSource } from '../../model/package';
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
  // Quantized as the weights stream in: the float checkpoint is never held whole.
  const read = { weightBytes: 0, int8: false };
  const pkg = await loadModelPackage(outlined(folderSource(from), read), undefined, { quantize: true });
  // Building the model once checks every shape against config.json before anything is written.
  ModelSession.fromPackage(pkg, await nodeBackend(values)).dispose();
  const files = saveStudioPackage(pkg);
  writeFolder(to, files, []);
  const sum = (byDtype: Record<string, number>) => Object.values(byDtype).reduce((a, b) => a + b, 0);
  const report = {
    out: to,
    files: [...files.keys()],
    already_quantized: read.int8,
    weight_bytes_before: read.weightBytes,
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

/**
 * The source, telling from each weight file's header as it streams past how many bytes of
 * weights it holds and whether any are int8 already (a studio package).
 */
function outlined(source: ModelSource, read: { weightBytes: number; int8: boolean }): ModelSource {
  const whole = source.read.bind(source);
  return {
    ...source,
    async read(file, onProgress) {
      const bytes = await whole(file, onProgress);
      if (file.endsWith('.safetensors')) tally(outlineSafetensors(bytes, file));
      return bytes;
    },
    async *stream(file, onProgress) {
      let prefix: Uint8Array | null = new Uint8Array(0);
      for await (const chunk of source.stream!(file, onProgress)) {
        if (prefix) {
          const longer: Uint8Array = new Uint8Array(prefix.byteLength + chunk.byteLength);
          longer.set(prefix);
          longer.set(chunk, prefix.byteLength);
          prefix = longer;
          if (prefix.byteLength >= 8 && prefix.byteLength >= safetensorsHeaderBytes(prefix)) {
            tally(outlineSafetensors(prefix, file));
            prefix = null;
          }
        }
        yield chunk;
      }
    },
  };

  function tally(outline: ReturnType<typeof outlineSafetensors>): void {
    for (const t of outline.tensors) {
      read.weightBytes += elementCount(t.shape) * dtypeBytes(t.dtype);
      if (t.dtype === 'I8') read.int8 = true;
    }
  }
}
