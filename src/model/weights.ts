/**
 * One view over a checkpoint's tensors, whatever shards or dtypes they came in: float
 * weights as float32, the studio's int8 weights as (values, per-row scales).
 */
import { StudioError } from '../errors';
import {
  elementCount,
  parseSafetensors,
  toFloat32,
  toInt8,
  type SafetensorsFile,
  type TensorEntry,
} from '../formats/safetensors';
import type { StudioQuantization } from './config';
import { dequantizeRows, type QuantizedMatrix } from './quantize';

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

export class WeightStore {
  private readonly entries = new Map<string, TensorEntry>();
  /** Each tensor's size in the file, which outlives its bytes (see release). */
  private readonly byteLengths = new Map<string, number>();
  /** Set once the bytes are dropped: why, in words, for the error a later read gets. */
  private releasedBecause: string | null = null;

  constructor(
    shards: SafetensorsFile[],
    private readonly quantization: StudioQuantization | null,
  ) {
    for (const shard of shards) {
      for (const [name, entry] of shard.tensors) {
        this.entries.set(name, entry);
        this.byteLengths.set(name, entry.bytes.byteLength);
      }
    }
  }

  static fromFiles(files: { name: string; bytes: Uint8Array }[], quantization: StudioQuantization | null): WeightStore {
    return new WeightStore(files.map((f) => parseSafetensors(f.bytes, f.name)), quantization);
  }

  get names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  shape(name: string): number[] {
    return this.metadata(name).shape;
  }

  /**
   * Drops every tensor's bytes, keeping names, dtypes, shapes and sizes. Once a model is
   * built the backend holds its own copy, and for a 0.5B model these bytes are another
   * 0.5 GB beside it. Reading a tensor afterwards is an error that says `why`.
   */
  release(why: string): void {
    for (const [name, e] of this.entries) this.entries.set(name, { ...e, bytes: new Uint8Array(0) });
    this.releasedBecause = why;
  }

  get released(): boolean {
    return this.releasedBecause !== null;
  }

  /** Bytes the checkpoint spends on each dtype (for the model facts). */
  bytesByDtype(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, e] of this.entries) out[e.dtype] = (out[e.dtype] ?? 0) + this.byteLengths.get(name)!;
    return out;
  }

  isQuantized(name: string): boolean {
    return this.metadata(name).dtype === 'I8' && this.quantization !== null;
  }

  /** A weight as stored in int8 with its per-row scales; only for quantized weights. */
  quantized(name: string): QuantizedMatrix {
    const { values, scales, rows, cols, perColumn } = this.int8(name);
    if (perColumn) {
      throw new StudioError('model', `The int8 weight "${name}" has one scale per column (a [in, out] Conv1D weight), not per row.`);
    }
    return { values, scales, rows, cols };
  }

  /**
   * A per-column int8 weight [in, out] (GPT-2's Conv1D) in nn.Linear's layout [out, in]
   * with one scale per row, as the int8 kernels take it. Moving int8 values is exact.
   */
  quantizedTransposed(name: string): QuantizedMatrix {
    const { values, scales, rows, cols, perColumn } = this.int8(name);
    if (!perColumn) throw new StudioError('model', `The int8 weight "${name}" has one scale per row, not per column.`);
    const out = new Int8Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
    return { values: out, scales, rows: cols, cols: rows };
  }

  /** Any weight as float32; int8 weights are dequantized. */
  float(name: string): FloatTensor {
    const entry = this.entry(name);
    if (entry.dtype !== 'I8' || !this.quantization) return { shape: entry.shape, data: toFloat32(entry) };
    const { perColumn, ...q } = this.int8(name);
    if (!perColumn) return { shape: entry.shape, data: dequantizeRows(q) };
    const data = new Float32Array(q.rows * q.cols);
    for (let r = 0; r < q.rows; r++) for (let c = 0; c < q.cols; c++) data[r * q.cols + c] = q.values[r * q.cols + c] * q.scales[c];
    return { shape: entry.shape, data };
  }

  /**
   * An int8 matrix and its scales: shape [rows] scales one row each (nn.Linear's [out, in]),
   * shape [1, cols] one column each (GPT-2's Conv1D [in, out]); either way one per output channel.
   */
  private int8(name: string): QuantizedMatrix & { perColumn: boolean } {
    const entry = this.entry(name);
    const scaleName = name + (this.quantization?.scale_suffix ?? '_scale');
    if (entry.dtype !== 'I8' || !this.entries.has(scaleName)) {
      throw new StudioError('model', `The checkpoint's "${name}" is not an int8 weight with scales "${scaleName}".`);
    }
    if (entry.shape.length !== 2) throw new StudioError('model', `The int8 weight "${name}" must be a matrix, got shape [${entry.shape.join(', ')}].`);
    const scaleEntry = this.entry(scaleName);
    const [rows, cols] = entry.shape;
    const perColumn = scaleEntry.shape.length === 2 && scaleEntry.shape[0] === 1;
    const expected = perColumn ? [1, cols] : [rows];
    if (scaleEntry.shape.length !== expected.length || scaleEntry.shape.some((n, i) => n !== expected[i])) {
      throw new StudioError('model',
        `The checkpoint's "${scaleName}" has shape [${scaleEntry.shape.join(', ')}], but the [${rows}, ${cols}] int8 weight "${name}" needs [${rows}] (per row) or [1, ${cols}] (per column).`);
    }
    return { values: toInt8(entry), scales: toFloat32(scaleEntry), rows, cols, perColumn };
  }

  /** A tensor as stored (dtype, shape, bytes), for writing it out again. */
  stored(name: string): TensorEntry {
    return this.entry(name);
  }

  /** Checks a weight's shape against what config.json implies, naming both. */
  expectShape(name: string, expected: number[]): void {
    const actual = this.metadata(name).shape;
    if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
      throw new StudioError('model',
        `The checkpoint's "${name}" has shape [${actual.join(', ')}], but config.json implies [${expected.join(', ')}].`,
        'The weights and config.json come from different models.');
    }
  }

  /** A tensor whose bytes are read: refused once they are released. */
  private entry(name: string): TensorEntry {
    const e = this.metadata(name);
    if (this.releasedBecause !== null) throw new StudioError('model', `The weight "${name}" is no longer in memory: ${this.releasedBecause}.`);
    return e;
  }

  private metadata(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new StudioError('model', `The checkpoint has no tensor "${name}", which this architecture needs.`,
      'The weights are incomplete or belong to another architecture.');
    return e;
  }

  parameterCount(): number {
    let n = 0;
    for (const [name, e] of this.entries) if (!name.endsWith(this.quantization?.scale_suffix ?? '\u0000')) n += elementCount(e.shape);
    return n;
  }
}
