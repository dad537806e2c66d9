import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStudioError } from '../../src/errors';
import {
  dtypeBytes, elementCount, parseSafetensors, toFloat32, toInt8, writeSafetensors,
  type SafetensorsDtype, type SafetensorsFile, type TensorToWrite,
} from '../../src/formats/safetensors';

const ALL_DTYPES: SafetensorsDtype[] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];

/** One tensor to write, with the little-endian bytes the file must hold for it, computed independently. */
interface Case {
  tensor: TensorToWrite;
  bytes: Uint8Array;
}

const shapeArb = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 });

function littleEndian(count: number, bytesPer: number, put: (view: DataView, i: number) => void): Uint8Array {
  const out = new Uint8Array(count * bytesPer);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) put(view, i);
  return out;
}

/**
 * A tensor of the given dtype in each typed array the writer accepts for it: F32 as
 * Float32Array, I32 as Int32Array, F16/BF16 as Uint16Array bit patterns, I8 as Int8Array,
 * U8/BOOL as Uint8Array, and the rest (F64, I64, I16) as their raw little-endian bytes.
 */
function caseArb(dtype: SafetensorsDtype): fc.Arbitrary<Case> {
  return shapeArb.chain((shape): fc.Arbitrary<Case> => {
    const n = elementCount(shape);
    switch (dtype) {
      case 'F32':
        return fc.array(fc.float(), { minLength: n, maxLength: n }).map((xs) => {
          const data = Float32Array.from(xs);
          return { tensor: { dtype, shape, data }, bytes: littleEndian(n, 4, (v, i) => v.setFloat32(i * 4, data[i], true)) };
        });
      case 'I32':
        return fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n }).map((xs) => {
          const data = Int32Array.from(xs);
          return { tensor: { dtype, shape, data }, bytes: littleEndian(n, 4, (v, i) => v.setInt32(i * 4, data[i], true)) };
        });
      case 'F16':
      case 'BF16':
        return fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: n, maxLength: n }).map((xs) => {
          const data = Uint16Array.from(xs);
          return { tensor: { dtype, shape, data }, bytes: littleEndian(n, 2, (v, i) => v.setUint16(i * 2, data[i], true)) };
        });
      case 'I8':
        return fc.int8Array({ minLength: n, maxLength: n }).map((data) => ({
          tensor: { dtype, shape, data }, bytes: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
        }));
      case 'U8':
      case 'BOOL':
        return fc.uint8Array({ minLength: n, maxLength: n, max: dtype === 'BOOL' ? 1 : 255 }).map((data) => ({
          tensor: { dtype, shape, data }, bytes: data.slice(),
        }));
      default: {
        const size = dtypeBytes(dtype);
        return fc.uint8Array({ minLength: n * size, maxLength: n * size }).map((data) => ({
          tensor: { dtype, shape, data }, bytes: data.slice(),
        }));
      }
    }
  });
}

/** Names the writer must keep exactly: any code points (lone surrogates too), integer-like names, "__proto__". */
const nameArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('0', '10', '__proto__', 'constructor', 'model.layers.0.mlp.up_proj.weight', '😀', '\uffff', '"', '\\') },
).filter((n) => n !== '__metadata__');

const metadataArb = fc.option(
  fc.uniqueArray(
    fc.tuple(
      fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('format', '__proto__', 'toString', '0')),
      fc.string({ unit: 'binary', maxLength: 20 }),
    ),
    { selector: ([k]) => k, maxLength: 5 },
  ).map((entries) => Object.fromEntries(entries) as Record<string, string>),
  { nil: undefined },
);

const filesArb = fc.record({
  cases: fc.uniqueArray(
    fc.tuple(nameArb, fc.constantFrom(...ALL_DTYPES).chain(caseArb)),
    { selector: ([name]) => name, maxLength: 8 },
  ),
  metadata: metadataArb,
});

/** Object.fromEntries, so that a "__proto__" name stays a name. */
const tensorRecord = (cases: [string, Case][]) => Object.fromEntries(cases.map(([name, c]) => [name, c.tensor])) as Record<string, TensorToWrite>;

function headerLength(file: Uint8Array): number {
  return Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
}

/** What every successful parse promises, whatever the input bytes were. */
function checkParsed(parsed: SafetensorsFile, file: Uint8Array): void {
  const dataStart = 8 + headerLength(file);
  const spans: [number, number][] = [];
  for (const [name, t] of parsed.tensors) {
    expect(t.name).toBe(name);
    expect(ALL_DTYPES).toContain(t.dtype);
    expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
    expect(t.bytes.byteLength).toBe(elementCount(t.shape) * dtypeBytes(t.dtype));
    // The bytes are a view into the file's data section.
    expect(t.bytes.buffer).toBe(file.buffer);
    const begin = t.bytes.byteOffset - file.byteOffset;
    expect(begin).toBeGreaterThanOrEqual(dataStart);
    expect(begin + t.bytes.byteLength).toBeLessThanOrEqual(file.byteLength);
    if (t.bytes.byteLength > 0) spans.push([begin, begin + t.bytes.byteLength]);
    // Every reader of a parsed tensor works on it.
    expect(toFloat32(t)).toHaveLength(elementCount(t.shape));
    if (t.dtype === 'I8') expect(toInt8(t)).toHaveLength(elementCount(t.shape));
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  for (const v of Object.values(parsed.metadata)) expect(typeof v).toBe('string');
}

/** Parse, and accept only a StudioError('safetensors') as failure. */
function parseOrStudioError(file: Uint8Array): SafetensorsFile | null {
  try {
    const parsed = parseSafetensors(file);
    checkParsed(parsed, file);
    return parsed;
  } catch (e) {
    if (!isStudioError(e) || e.code !== 'safetensors') throw e;
    expect(e.message.length).toBeLessThan(2000);
    return null;
  }
}

/** The F16 value of a bit pattern, by an independent route: build the float32 bit pattern. */
function halfBitsToFloat32(h: number): number {
  const sign = (h >> 15) & 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return (sign ? -1 : 1) * fraction * 2 ** -24; // zero and subnormals, exact
  const bits = new Uint32Array(1);
  bits[0] = (sign << 31) | ((exponent === 0x1f ? 0xff : exponent - 15 + 127) << 23) | (fraction << 13);
  return new Float32Array(bits.buffer)[0];
}

describe('safetensors properties', () => {
  it('write → parse gives back every name, dtype, shape, byte and metadata entry', () => {
    fc.assert(
      fc.property(filesArb, ({ cases, metadata }) => {
        const file = writeSafetensors(tensorRecord(cases), metadata);
        const parsed = parseSafetensors(file);
        checkParsed(parsed, file);
        expect([...parsed.tensors.keys()].sort()).toEqual(cases.map(([n]) => n).sort());
        for (const [name, c] of cases) {
          const t = parsed.tensors.get(name)!;
          expect(t.dtype).toBe(c.tensor.dtype);
          expect(t.shape).toEqual(c.tensor.shape);
          expect(Array.from(t.bytes)).toEqual(Array.from(c.bytes));
        }
        expect(Object.entries(parsed.metadata)).toEqual(Object.entries(metadata ?? {}));
      }),
      { numRuns: 500 },
    );
  });

  it('values read back equal the values written, per dtype', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_DTYPES).chain(caseArb), ({ tensor, bytes }) => {
        const t = parseSafetensors(writeSafetensors({ t: tensor })).tensors.get('t')!;
        const values = toFloat32(t);
        const view = new DataView(bytes.buffer);
        const expected = Array.from({ length: values.length }, (_, i) => {
          switch (tensor.dtype) {
            case 'F32': return (tensor.data as Float32Array)[i];
            case 'I32': return Math.fround((tensor.data as Int32Array)[i]);
            case 'F16': return halfBitsToFloat32((tensor.data as Uint16Array)[i]);
            case 'BF16': return new Float32Array(Uint32Array.of((tensor.data as Uint16Array)[i] << 16).buffer)[0];
            case 'I8': case 'U8': case 'BOOL': return (tensor.data as Int8Array | Uint8Array)[i];
            case 'F64': return Math.fround(view.getFloat64(i * 8, true));
            case 'I64': return Math.fround(Number(view.getBigInt64(i * 8, true)));
            case 'I16': return view.getInt16(i * 2, true);
          }
        });
        // Object.is: NaN equals NaN, and -0 must stay -0.
        values.forEach((v, i) => expect(Object.is(v, expected[i]) || (Number.isNaN(v) && Number.isNaN(expected[i]))).toBe(true));
        if (tensor.dtype === 'I8') expect(Array.from(toInt8(t))).toEqual(Array.from(tensor.data));
      }),
      { numRuns: 500 },
    );
  });

  it('every F16 bit pattern widens exactly (all 65,536 of them)', () => {
    const data = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const values = toFloat32(parseSafetensors(writeSafetensors({ h: { dtype: 'F16', shape: [65536], data } })).tensors.get('h')!);
    for (let i = 0; i < 65536; i++) {
      const want = halfBitsToFloat32(i);
      if (!(Object.is(values[i], want) || (Number.isNaN(values[i]) && Number.isNaN(want)))) {
        throw new Error(`F16 0x${i.toString(16)}: got ${values[i]}, want ${want}`);
      }
    }
  });

  it('the writer is canonical: parse → write reproduces the file byte for byte, header padded to 8, tensors aligned', () => {
    fc.assert(
      fc.property(filesArb, ({ cases, metadata }) => {
        const file = writeSafetensors(tensorRecord(cases), metadata);
        const n = headerLength(file);
        expect(n % 8).toBe(0);
        const parsed = parseSafetensors(file);
        for (const t of parsed.tensors.values()) {
          // Widest dtypes first and a padded header: every tensor can be viewed as its typed array.
          expect((t.bytes.byteOffset - 8 - n) % dtypeBytes(t.dtype)).toBe(0);
        }
        const again = writeSafetensors(
          Object.fromEntries([...parsed.tensors].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: t.bytes }])),
          metadata === undefined ? undefined : parsed.metadata,
        );
        expect(Array.from(again)).toEqual(Array.from(file));
      }),
      { numRuns: 300 },
    );
  });

  it('the writer refuses data whose size does not match the shape, and a tensor named __metadata__', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_DTYPES), shapeArb, fc.integer({ min: 1, max: 9 }), (dtype, shape, extra) => {
        const size = elementCount(shape) * dtypeBytes(dtype);
        expect(() => writeSafetensors({ t: { dtype, shape, data: new Uint8Array(size + extra) } })).toThrow(/bytes given for shape/);
      }),
      { numRuns: 100 },
    );
    expect(() => writeSafetensors({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } })).toThrow(/reserves that key/);
  });

  it('arbitrary bytes: parse succeeds with a consistent result or throws StudioError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        parseOrStudioError(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('a valid length prefix before arbitrary JSON, or before text that is nearly a header', () => {
    const oddNumber = fc.oneof(
      fc.integer({ min: -10, max: 1000 }), fc.double(), fc.constantFrom(2 ** 53, 2 ** 64, 1e308, -0, 0.5, 1e-7),
    );
    const oddValue = fc.oneof(oddNumber, fc.string({ maxLength: 4 }), fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}));
    const entry = fc.record({
      dtype: fc.oneof(fc.constantFrom(...ALL_DTYPES, 'F8', 'f32', 'U16', ''), oddValue),
      shape: fc.oneof(fc.array(oddNumber, { maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }), oddValue),
      data_offsets: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 })), fc.array(oddNumber, { maxLength: 3 }), oddValue),
    }, { requiredKeys: [] });
    const headerArb = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
      fc.dictionary(fc.oneof(fc.string({ maxLength: 5 }), fc.constant('__metadata__')), fc.oneof(entry, oddValue, fc.dictionary(fc.string(), oddValue)))
        .map((h) => JSON.stringify(h)),
      // Deep nesting, which recursive code (JSON.stringify in a message) cannot take.
      fc.integer({ min: 1, max: 20000 }).map((depth) => `{"t":{"dtype":"F32","shape":${'['.repeat(depth)}${']'.repeat(depth)},"data_offsets":[0,0]}}`),
    );
    fc.assert(
      fc.property(headerArb, fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -3, max: 3 }), (header, data, skew) => {
        const text = new TextEncoder().encode(header);
        const file = new Uint8Array(8 + text.byteLength + data.byteLength);
        new DataView(file.buffer).setBigUint64(0, BigInt(Math.max(0, text.byteLength + skew)), true);
        file.set(text, 8);
        file.set(data, 8 + text.byteLength);
        parseOrStudioError(file);
      }),
      { numRuns: 2000 },
    );
  });

  it('valid files with bytes flipped, cut, inserted or the length field rewritten: only StudioError', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
      // Header characters that change its meaning: quotes, brackets, digits, commas.
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(...'"[]{}:,-0123456789 e.'.split('').map((c) => c.charCodeAt(0))) }),
      fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 600 }).map(BigInt)) }),
    );
    fc.assert(
      fc.property(filesArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ cases, metadata }, mutations) => {
        let file = writeSafetensors(tensorRecord(cases), metadata);
        for (const m of mutations) {
          const at = file.byteLength ? ('at' in m ? m.at % file.byteLength : 0) : 0;
          if (m.kind === 'set') file[at] = m.value;
          else if (m.kind === 'flip') file[at] ^= 1 << m.bit;
          else if (m.kind === 'truncate') file = file.slice(0, at);
          else if (m.kind === 'delete') file = Uint8Array.from([...file.subarray(0, at), ...file.subarray(at + m.length)]);
          else if (m.kind === 'insert') file = Uint8Array.from([...file.subarray(0, at), ...m.bytes, ...file.subarray(at)]);
          else if (file.byteLength >= 8) new DataView(file.buffer, file.byteOffset).setBigUint64(0, m.value, true);
        }
        parseOrStudioError(file);
      }),
      { numRuns: 2000 },
    );
  });

  it('a view into a larger buffer (non-zero byteOffset) parses the same as a copy', () => {
    fc.assert(
      fc.property(filesArb, fc.integer({ min: 1, max: 15 }), ({ cases, metadata }, pad) => {
        const file = writeSafetensors(tensorRecord(cases), metadata);
        const host = new Uint8Array(pad + file.byteLength + pad);
        host.fill(0xaa);
        host.set(file, pad);
        const view = host.subarray(pad, pad + file.byteLength);
        const a = parseSafetensors(file);
        const b = parseSafetensors(view);
        checkParsed(b, view);
        expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
        for (const [name, t] of a.tensors) {
          expect(Array.from(b.tensors.get(name)!.bytes)).toEqual(Array.from(t.bytes));
          const x = toFloat32(t);
          const y = toFloat32(b.tensors.get(name)!);
          x.forEach((v, i) => expect(Object.is(v, y[i]) || (Number.isNaN(v) && Number.isNaN(y[i]))).toBe(true));
        }
      }),
      { numRuns: 200 },
    );
  });
});
