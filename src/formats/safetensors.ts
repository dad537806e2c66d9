/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON header, then the
 * raw little-endian tensor bytes. Offsets in the header are relative to the end of the
 * header. Spec: https://github.com/huggingface/safetensors#format
 *
 * The reader validates everything a hostile or truncated file could get wrong before any
 * byte is interpreted, and raises StudioError('safetensors') naming the tensor at fault.
 */
import { StudioError } from '../errors';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The tensor's bytes, a view into the file when aligned, else a copy. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, TensorEntry>;
}

/** The biggest header we accept (safetensors itself caps at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function fail(message: string, hint?: string): never {
  throw new StudioError('safetensors', message, hint);
}

/**
 * A header value for an error message: short, and safe for any JSON (JSON.stringify of a
 * deeply nested array overflows the stack, and a huge one would make a huge message).
 */
function describeValue(value: unknown): string {
  if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null)) return 'an array of arrays or objects';
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function startsWithText(file: Uint8Array, text: string): boolean {
  return file.byteLength >= text.length && [...text].every((c, i) => file[i] === c.charCodeAt(0));
}

/** How many leading bytes checkSafetensorsStart needs to tell a safetensors file from a Git LFS pointer or another kind of file. */
const START_BYTES = 64;

/** The checks that need only the file's first bytes (START_BYTES, or the whole file when shorter). */
function checkSafetensorsStart(file: Uint8Array, label: string): void {
  if (file.byteLength < 8) {
    fail(`${label} is truncated: it has ${file.byteLength} bytes, fewer than the 8-byte header length.`,
      'Download or copy the file again.');
  }
  if (startsWithText(file, 'version https://git-lfs')) {
    fail(`${label} is a Git LFS pointer (a small text file that stands for the real one), not the file itself.`,
      'Fetch the real file: run "git lfs pull" in the cloned repository, or download the file from the model\'s page.');
  }
  // The spec: the header MUST begin with "{". Anything else (an image, a zip, a web page) is another kind of file.
  if (file.byteLength > 8 && file[8] !== 0x7b) fail(`${label} is not a safetensors file: it does not start with a safetensors header.`);
}

/** Reads the header only: what `parseSafetensors` would read, without touching the data. */
export function parseSafetensorsHeader(
  file: Uint8Array,
  label = 'the safetensors file',
): { headerLength: number; header: Record<string, unknown> } {
  checkSafetensorsStart(file, label);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const lengthBig = view.getBigUint64(0, true);
  if (lengthBig > BigInt(file.byteLength - 8)) {
    fail(`${label} is truncated or corrupt: its header claims ${lengthBig} bytes but only ${file.byteLength - 8} follow.`,
      'Download or copy the file again.');
  }
  const headerLength = Number(lengthBig);
  if (headerLength > MAX_HEADER_BYTES) fail(`${label} has a ${headerLength}-byte header, over the 100 MB limit.`);
  if (headerLength < 2) fail(`${label} has an empty header.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerLength));
  } catch {
    fail(`${label} has a header that is not UTF-8 text; it is not a safetensors file.`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    fail(`${label} has a header that is not valid JSON; it is not a safetensors file or it is corrupt.`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`${label} has a header that is not a JSON object.`);
  }
  return { headerLength, header: header as Record<string, unknown> };
}

interface HeaderTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * The header's tensor entries and metadata, each checked: dtype, shape, offsets that run
 * forwards, lie within `dataLength` (Infinity when the data is not at hand yet) and match
 * the shape, and do not overlap.
 */
function headerEntries(header: Record<string, unknown>, label: string, dataLength: number): { metadata: Record<string, string>; entries: HeaderTensor[] } {
  const metadata: Record<string, string> = {};
  const entries: HeaderTensor[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null) fail(`${label} has a __metadata__ entry that is not an object.`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`${label} has metadata "${k}" that is not a string.`);
        // defineProperty, not assignment: a key "__proto__" must stay a key.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail(`${label}: tensor "${name}" has no description.`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      fail(`${label}: tensor "${name}" has dtype ${describeValue(dtype)}, which the studio does not read.`,
        `Supported dtypes: ${Object.keys(DTYPE_BYTES).join(', ')}.`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${label}: tensor "${name}" has an invalid shape ${describeValue(shape)}.`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${label}: tensor "${name}" has invalid data_offsets ${describeValue(offsets)}.`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) {
      fail(`${label}: tensor "${name}" has data_offsets [${begin}, ${end}] that end before they begin; the file is corrupt.`,
        'Download or copy the file again.');
    }
    if (end > dataLength) {
      fail(`${label}: tensor "${name}" has data_offsets [${begin}, ${end}] outside the ${dataLength} data bytes; the file is truncated or corrupt.`,
        'Download or copy the file again.');
    }
    const typedDtype = dtype as SafetensorsDtype;
    const expected = elementCount(shape as number[]) * DTYPE_BYTES[typedDtype];
    if (end - begin !== expected) {
      fail(`${label}: tensor "${name}" holds ${end - begin} bytes but its shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected}.`);
    }
    entries.push({ name, dtype: typedDtype, shape: [...(shape as number[])], begin, end });
  }
  const spans = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].begin < spans[i - 1].end) {
      fail(`${label}: tensors "${spans[i - 1].name}" and "${spans[i].name}" overlap in the file; it is corrupt.`);
    }
  }
  return { metadata, entries };
}

/** How many leading bytes of a safetensors file hold its header: 8 until the length is known, then 8 + that length. */
export function safetensorsHeaderBytes(prefix: Uint8Array): number {
  if (prefix.byteLength < 8) return 8;
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  return length > BigInt(MAX_HEADER_BYTES) ? 8 : 8 + Number(length);
}

/** What a safetensors header says about its file before the data is read: tensors, metadata, the file's whole size. */
export interface SafetensorsOutline {
  metadata: Record<string, string>;
  tensors: { name: string; dtype: SafetensorsDtype; shape: number[] }[];
  /** 8 + the header + the end of the last tensor's data: all a well-formed file holds. */
  fileBytes: number;
}

/** Reads and checks the header from a prefix of the file (at least safetensorsHeaderBytes(prefix) bytes, or the whole file). */
export function outlineSafetensors(prefix: Uint8Array, label = 'the safetensors file'): SafetensorsOutline {
  const { headerLength, header } = parseSafetensorsHeader(prefix, label);
  const { metadata, entries } = headerEntries(header, label, Infinity);
  const dataEnd = entries.reduce((m, e) => Math.max(m, e.end), 0);
  return { metadata, tensors: entries.map(({ name, dtype, shape }) => ({ name, dtype, shape })), fileBytes: 8 + headerLength + dataEnd };
}

export function parseSafetensors(file: Uint8Array, label = 'the safetensors file'): SafetensorsFile {
  const { headerLength, header } = parseSafetensorsHeader(file, label);
  const dataStart = 8 + headerLength;
  const { metadata, entries } = headerEntries(header, label, file.byteLength - dataStart);
  const tensors = new Map<string, TensorEntry>();
  for (const e of entries) {
    tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, bytes: file.subarray(dataStart + e.begin, dataStart + e.end) });
  }
  return { metadata, tensors };
}

/** A tensor as streamSafetensors meets it, before its bytes. */
export interface StreamedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  byteLength: number;
}

/** Where streamSafetensors hands one tensor's bytes, in order, as they arrive; finish() once all have. */
export interface TensorSink {
  write(bytes: Uint8Array): void;
  finish(): void;
}

/**
 * Walks a safetensors file as its chunks arrive, without ever holding the whole file: the
 * header is read and checked as parseSafetensors checks it, then each tensor's bytes, in
 * file order, go to the sink `open` returns for it (null: skipped). A chunk may be reused
 * by the producer once write() returns, so sinks copy what they keep. Returns the metadata
 * and the tensor names in header order. Fails with parseSafetensors' messages, naming the
 * tensor whose bytes the file ends before. `onHeader` sees every tensor, in file order,
 * before the first sink is asked for.
 */
export async function streamSafetensors(
  chunks: AsyncIterable<Uint8Array>,
  label: string,
  open: (tensor: StreamedTensor) => TensorSink | null,
  onHeader?: (tensors: StreamedTensor[]) => void,
): Promise<{ metadata: Record<string, string>; names: string[] }> {
  const iterator = chunks[Symbol.asyncIterator]();
  let prefix = new Uint8Array(0);
  let ended = false;
  /** Reads on until the prefix holds `bytes`, or the file ends. */
  const fill = async (bytes: number) => {
    const parts = [prefix];
    let have = prefix.byteLength;
    while (have < bytes && !ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else {
        parts.push(next.value.slice());
        have += next.value.byteLength;
      }
    }
    if (parts.length > 1) {
      prefix = new Uint8Array(have);
      let at = 0;
      for (const p of parts) {
        prefix.set(p, at);
        at += p.byteLength;
      }
    }
  };
  await fill(START_BYTES);
  checkSafetensorsStart(prefix, label);
  const claimed = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  // Past the limit there is nothing worth reading on for; parseSafetensorsHeader below says the rest.
  if (claimed > BigInt(MAX_HEADER_BYTES) && (!ended || claimed <= BigInt(prefix.byteLength - 8))) {
    fail(`${label} has a ${claimed}-byte header, over the 100 MB limit.`);
  }
  await fill(safetensorsHeaderBytes(prefix));
  const { headerLength, header } = parseSafetensorsHeader(prefix, label);
  const { metadata, entries } = headerEntries(header, label, Infinity);
  const inFileOrder = [...entries].sort((a, b) => a.begin - b.begin);
  onHeader?.(inFileOrder.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, byteLength: t.end - t.begin })));

  let next = 0; // the first tensor not yet finished, in file order
  let sink: TensorSink | null | undefined; // undefined: `open` not asked yet for inFileOrder[next]
  let position = 0; // the data offset of the next byte to arrive
  const feed = (chunk: Uint8Array) => {
    let at = 0;
    for (;;) {
      // Finishing first lets empty tensors, and a tensor that ends exactly at a chunk's end, finish now.
      while (next < inFileOrder.length && position >= inFileOrder[next].begin) {
        const t = inFileOrder[next];
        if (sink === undefined) sink = open({ name: t.name, dtype: t.dtype, shape: t.shape, byteLength: t.end - t.begin });
        if (position < t.end) break;
        sink?.finish();
        sink = undefined;
        next++;
      }
      if (at >= chunk.byteLength || next >= inFileOrder.length) return;
      const t = inFileOrder[next];
      // Before the tensor: skip to it; inside it: as much of it as the chunk holds.
      const stop = position < t.begin ? t.begin : t.end;
      const take = Math.min(chunk.byteLength - at, stop - position);
      if (position >= t.begin) sink?.write(chunk.subarray(at, at + take));
      at += take;
      position += take;
    }
  };
  feed(prefix.subarray(8 + headerLength));
  prefix = new Uint8Array(0);
  while (!ended && next < inFileOrder.length) {
    const chunk = await iterator.next();
    if (chunk.done) ended = true;
    else feed(chunk.value);
  }
  if (!ended) await iterator.return?.();
  if (next < inFileOrder.length) {
    const t = inFileOrder[next];
    fail(`${label}: tensor "${t.name}" has data_offsets [${t.begin}, ${t.end}] outside the ${position} data bytes; the file is truncated or corrupt.`,
      'Download or copy the file again.');
  }
  return { metadata, names: entries.map((e) => e.name) };
}

/** How many of a float tensor's values are NaN or infinite (0 for integer dtypes). */
export function countNonFinite(values: Float32Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) n++;
  return n;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Any floating or integer tensor as float32 (F16 and BF16 widened exactly). */
export function toFloat32(entry: TensorEntry): Float32Array {
  const n = elementCount(entry.shape);
  const view = new DataView(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
  const out = new Float32Array(n);
  switch (entry.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      break;
    }
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
  }
  return out;
}

export function toInt8(entry: TensorEntry): Int8Array {
  if (entry.dtype !== 'I8') fail(`tensor "${entry.name}" is ${entry.dtype}, expected I8.`);
  return new Int8Array(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
}

export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int8Array | Uint8Array | Int32Array | Uint16Array;
}

/**
 * The Rust library's `Dtype` enum order (safetensors/src/tensor.rs), which is what it sorts
 * by: not the byte size alone, so I64 precedes F64, F32 precedes I32, BF16 precedes F16.
 */
const RUST_DTYPE_RANK: Record<SafetensorsDtype, number> = {
  BOOL: 0, U8: 1, I8: 2, I16: 3, F16: 4, BF16: 5, I32: 6, F32: 7, F64: 8, I64: 9,
};

/**
 * Rust compares String names as UTF-8 bytes, i.e. by code point (not by UTF-16 unit as `<`
 * does); Python's sort_keys orders str keys the same way.
 */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i].codePointAt(0) as number) - (y[i].codePointAt(0) as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Where each tensor of a safetensors file goes: the header (its 8-byte length first) and the tensors in file order. */
export interface SafetensorsLayout {
  header: Uint8Array;
  tensors: { name: string; byteLength: number }[];
  /** The whole file's bytes. */
  byteLength: number;
}

/**
 * Lays tensors out the way the Rust safetensors library (and so PyTorch's save_file) does:
 * ordered by its dtype enum (descending, so the widest first) then by name, the header
 * padded with spaces to a multiple of 8 so every tensor's bytes stay aligned for
 * typed-array views. Only dtypes and shapes are read: the bytes can come later, a tensor at a time.
 */
export function safetensorsLayout(tensors: Record<string, Omit<TensorToWrite, 'data'>>, metadata?: Record<string, string>): SafetensorsLayout {
  const names = Object.keys(tensors).sort((a, b) =>
    RUST_DTYPE_RANK[tensors[b].dtype] - RUST_DTYPE_RANK[tensors[a].dtype] || compareCodePoints(a, b));
  // Entries kept as a list: a JS object would move integer-like names ("0") to the front.
  const header: [string, unknown][] = [];
  if (metadata) header.push(['__metadata__', metadata]);
  const order: SafetensorsLayout['tensors'] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (name === '__metadata__') {
      throw new StudioError('safetensors', 'cannot write a tensor named "__metadata__": safetensors reserves that key for the metadata.');
    }
    const byteLength = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    header.push([name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + byteLength] }]);
    order.push({ name, byteLength });
    offset += byteLength;
  }
  let headerText = `{${header.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  const encoder = new TextEncoder();
  const unpadded = encoder.encode(headerText).byteLength;
  headerText += ' '.repeat(Math.ceil(unpadded / 8) * 8 - unpadded);
  const headerBytes = encoder.encode(headerText);
  const out = new Uint8Array(8 + headerBytes.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  return { header: out, tensors: order, byteLength: out.byteLength + offset };
}

/** The bytes a tensor's shape and dtype take, which its data must hold. */
function checkedByteLength(name: string, t: TensorToWrite): number {
  const byteLength = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
  if (t.data.byteLength !== byteLength) {
    throw new StudioError('safetensors',
      `cannot write tensor "${name}": ${t.data.byteLength} bytes given for shape [${t.shape.join(', ')}] of ${t.dtype} (${byteLength} expected).`);
  }
  return byteLength;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A tensor's bytes as a safetensors file holds them (little-endian), checked against its
 * shape: on a little-endian platform a view of the data itself, not a copy.
 */
export function safetensorsTensorBytes(name: string, t: TensorToWrite): Uint8Array {
  const byteLength = checkedByteLength(name, t);
  if (LITTLE_ENDIAN) return new Uint8Array(t.data.buffer, t.data.byteOffset, byteLength);
  const out = new Uint8Array(byteLength);
  writeLittleEndian(out, 0, t);
  return out;
}

/** Writes tensors as one safetensors file (laid out as safetensorsLayout says). */
export function writeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const layout = safetensorsLayout(tensors, metadata);
  const out = new Uint8Array(layout.byteLength);
  out.set(layout.header, 0);
  let cursor = layout.header.byteLength;
  for (const { name, byteLength } of layout.tensors) {
    const t = tensors[name];
    checkedByteLength(name, t);
    // Typed arrays are in the platform's byte order; every platform we run on is little-endian,
    // which is what safetensors requires. writeLittleEndian keeps this explicit for floats.
    writeLittleEndian(out, cursor, t);
    cursor += byteLength;
  }
  return out;
}

function writeLittleEndian(out: Uint8Array, at: number, t: TensorToWrite): void {
  const view = new DataView(out.buffer, out.byteOffset + at, t.data.byteLength);
  const d = t.data;
  if (d instanceof Float32Array) for (let i = 0; i < d.length; i++) view.setFloat32(i * 4, d[i], true);
  else if (d instanceof Int32Array) for (let i = 0; i < d.length; i++) view.setInt32(i * 4, d[i], true);
  else if (d instanceof Uint16Array) for (let i = 0; i < d.length; i++) view.setUint16(i * 2, d[i], true);
  else out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
}
