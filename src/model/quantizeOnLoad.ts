/**
 * How a float checkpoint becomes the studio's int8 package: every weight matrix as I8
 * values plus a `_scale` tensor (absmax, one scale per output channel), norms and biases
 * in their stored dtype, buffers dropped. Two ways to the same bytes: `quantizeOnLoad`
 * from a package already in memory, and `quantizeWhileStreaming` from a file as it
 * arrives, which never holds the float file: only the int8 result so far, one tensor's
 * worth of rows in flight and the small tensors kept as they are.
 */
import {
  dtypeBytes, elementCount, streamSafetensors, toFloat32, type SafetensorsDtype, type SafetensorsFile, type TensorEntry, type TensorSink,
} from '../formats/safetensors';
import { parseModelConfig, type ModelConfig, type StudioQuantization } from './config';
import { GPT2_BUFFERS, GPT2_CONV1D } from './gpt2';
import { quantizeRows, type QuantizedMatrix } from './quantize';
import { WeightStore, type FloatTensor } from './weights';

export const STUDIO_INT8: StudioQuantization = {
  quant_method: 'studio_int8', bits: 8, symmetric: true, granularity: 'per_output_channel', scale_suffix: '_scale',
};

/** Whether a tensor is a weight matrix the studio stores in int8 (norms and biases stay float). */
export function isQuantizable(name: string, shape: number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight');
}

/**
 * Tensors a checkpoint may carry that are not weights and that the studio rebuilds
 * itself: GPT-2's causal-mask buffers and old Llama checkpoints' rotary inv_freq.
 */
export function isBuffer(name: string): boolean {
  return GPT2_BUFFERS.test(name) || name.endsWith('.rotary_emb.inv_freq');
}

/** GPT-2's Conv1D weights are stored [in, out]: their output channels are columns. */
function scalesPerColumn(modelType: unknown, name: string): boolean {
  return modelType === 'gpt2' && GPT2_CONV1D.test(name);
}

interface QuantizedWeight {
  values: Int8Array;
  scales: Float32Array;
  scaleShape: number[];
}

/**
 * int8 values and scales of one weight matrix, one scale per output channel: per row for
 * nn.Linear's [out, in], per column (scales shaped [1, out]) for GPT-2's Conv1D [in, out].
 */
export function quantizeWeight(modelType: unknown, name: string, t: FloatTensor): QuantizedWeight {
  const [rows, cols] = t.shape;
  if (!scalesPerColumn(modelType, name)) {
    const q = quantizeRows(t.data, rows, cols);
    return { values: q.values, scales: q.scales, scaleShape: [rows] };
  }
  const transposed = new Float32Array(rows * cols); // [out, in]
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) transposed[c * rows + r] = t.data[r * cols + c];
  const q: QuantizedMatrix = quantizeRows(transposed, cols, rows);
  const values = new Int8Array(rows * cols); // back to [in, out], the checkpoint's layout
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = q.values[c * rows + r];
  return { values, scales: q.scales, scaleShape: [1, cols] };
}

// Float32Array bytes are the platform's order; every platform we run on is little-endian, as safetensors is.
const bytesOf = (a: Int8Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function setQuantized(tensors: Map<string, TensorEntry>, name: string, shape: number[], q: QuantizedWeight): void {
  const scaleName = name + STUDIO_INT8.scale_suffix;
  tensors.set(name, { name, dtype: 'I8', shape, bytes: bytesOf(q.values) });
  tensors.set(scaleName, { name: scaleName, dtype: 'F32', shape: q.scaleShape, bytes: bytesOf(q.scales) });
}

/** The quantized package: its config says so, which is what tells the model builder to read I8 and scales. */
/** What quantizing needs of a model package (./package's ModelPackage, which imports this file). */
interface Quantizable {
  config: ModelConfig;
  weights: WeightStore;
}

export function quantizedPackage<P extends Omit<Quantizable, 'weights'>>(pkg: P, shards: SafetensorsFile[]): P & Quantizable {
  return {
    ...pkg,
    config: parseModelConfig({ ...pkg.config.raw, quantization_config: STUDIO_INT8 }),
    weights: new WeightStore(shards, STUDIO_INT8),
  };
}

/**
 * A float checkpoint (F32, F16 or BF16) in memory as the studio's int8 package.
 * A package that is already quantized is returned as it is.
 */
export function quantizeOnLoad<P extends Quantizable>(pkg: P): P {
  if (pkg.config.quantization) return pkg;
  const tensors = new Map<string, TensorEntry>();
  const quantizable = (name: string) => !isBuffer(name) && isQuantizable(name, pkg.weights.shape(name));
  const arena = new Int8Arena(pkg.weights.names.reduce((n, name) => n + (quantizable(name) ? elementCount(pkg.weights.shape(name)) : 0), 0));
  for (const name of pkg.weights.names) {
    if (isBuffer(name)) continue;
    const stored = pkg.weights.stored(name);
    if (!isQuantizable(name, stored.shape)) {
      // A copy: a view would keep the whole float checkpoint alive for one norm vector.
      tensors.set(name, { ...stored, bytes: stored.bytes.slice() });
      continue;
    }
    const q = quantizeWeight(pkg.config.modelType, name, pkg.weights.float(name));
    const values = arena.take(q.values.length);
    values.set(q.values);
    setQuantized(tensors, name, stored.shape, { ...q, values });
  }
  return quantizedPackage(pkg, [{ metadata: { format: 'pt' }, tensors }]);
}

/**
 * One allocation for all of a shard's int8 values, handed out a tensor at a time. Once the
 * model is built the session drops them (ModelSession), and memory is only given back to
 * the system when it goes in one piece: a big allocation is its own mapping, freed whole,
 * while hundreds of weight-sized ones land in the C heap among allocations that live on
 * (glibc serves them there once an 8 MiB read chunk has been freed), and stay resident.
 */
class Int8Arena {
  private readonly buffer: Int8Array;
  private used = 0;

  constructor(size: number) {
    this.buffer = new Int8Array(size);
  }

  take(n: number): Int8Array {
    if (this.used + n > this.buffer.length) throw new Error(`Int8Arena: ${n} more values past its ${this.buffer.length}`);
    return this.buffer.subarray(this.used, (this.used += n));
  }
}

/** Rows quantized per block of about this many bytes as they arrive (a row is never split). */
const BLOCK_BYTES = 4 * 2 ** 20;

/**
 * A weight with one scale per row, quantized a block of whole rows at a time: rows are
 * independent, so each block through quantizeRows gives the very bytes the whole matrix would.
 */
function rowQuantizingSink(
  name: string, dtype: SafetensorsDtype, shape: number[], blockBytes: number, values: Int8Array, done: (q: QuantizedWeight) => void,
): TensorSink {
  const [rows, cols] = shape;
  const scales = new Float32Array(rows);
  const bytesPerRow = cols * dtypeBytes(dtype);
  const block = new Uint8Array(Math.max(1, Math.floor(blockBytes / Math.max(1, bytesPerRow))) * bytesPerRow);
  let filled = 0;
  let row = 0; // the first row of the block
  const flush = () => {
    const blockRows = bytesPerRow === 0 ? 0 : filled / bytesPerRow;
    if (blockRows === 0) return;
    const floats = toFloat32({ name, dtype, shape: [blockRows * cols], bytes: block.subarray(0, filled) });
    const q = quantizeRows(floats, blockRows, cols);
    values.set(q.values, row * cols);
    scales.set(q.scales, row);
    row += blockRows;
    filled = 0;
  };
  return {
    write(bytes) {
      let at = 0;
      while (at < bytes.byteLength) {
        const take = Math.min(block.byteLength - filled, bytes.byteLength - at);
        block.set(bytes.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === block.byteLength) flush();
      }
    },
    finish() {
      flush();
      done({ values, scales, scaleShape: [rows] });
    },
  };
}

/** A tensor kept whole: small ones kept as stored, and GPT-2's Conv1D weights, whose column scales need every row first. */
function wholeTensorSink(byteLength: number, done: (bytes: Uint8Array) => void): TensorSink {
  const bytes = new Uint8Array(byteLength);
  let filled = 0;
  return {
    write(chunk) {
      bytes.set(chunk, filled);
      filled += chunk.byteLength;
    },
    finish() {
      done(bytes);
    },
  };
}

/**
 * One shard of a float checkpoint, quantized as its chunks arrive (see the module comment);
 * the result holds exactly the tensors, with exactly the bytes, quantizeOnLoad gives.
 * `blockBytes`: how much of a weight's rows to gather before quantizing them (tests make it tiny).
 */
export async function quantizeWhileStreaming(
  chunks: AsyncIterable<Uint8Array>, label: string, modelType: unknown, blockBytes = BLOCK_BYTES,
): Promise<SafetensorsFile> {
  const made = new Map<string, TensorEntry>();
  const quantizedAs = new Map<string, { shape: number[]; q: QuantizedWeight }>();
  let arena = new Int8Arena(0);
  const { names } = await streamSafetensors(chunks, label, ({ name, dtype, shape, byteLength }) => {
    if (isBuffer(name)) return null;
    if (!isQuantizable(name, shape)) {
      return wholeTensorSink(byteLength, (bytes) => made.set(name, { name, dtype, shape, bytes }));
    }
    const values = arena.take(elementCount(shape));
    if (!scalesPerColumn(modelType, name)) return rowQuantizingSink(name, dtype, shape, blockBytes, values, (q) => quantizedAs.set(name, { shape, q }));
    return wholeTensorSink(byteLength, (bytes) => {
      const q = quantizeWeight(modelType, name, { shape, data: toFloat32({ name, dtype, shape, bytes }) });
      values.set(q.values);
      quantizedAs.set(name, { shape, q: { ...q, values } });
    });
  }, (tensors) => {
    arena = new Int8Arena(tensors.reduce((n, t) => n + (!isBuffer(t.name) && isQuantizable(t.name, t.shape) ? elementCount(t.shape) : 0), 0));
  });
  // In header order, as parseSafetensors and quantizeOnLoad list them.
  const tensors = new Map<string, TensorEntry>();
  for (const name of names) {
    const kept = made.get(name);
    if (kept) tensors.set(name, kept);
    const quantized = quantizedAs.get(name);
    if (quantized) setQuantized(tensors, name, quantized.shape, quantized.q);
  }
  return { metadata: { format: 'pt' }, tensors };
}
