import { describe, expect, it } from 'vitest';
import { parseSafetensors, safetensorsLayout, safetensorsTensorBytes, writeSafetensors } from '../../src/formats/safetensors';

const f32 = (...xs: number[]) => new Float32Array(xs);

/** The byte-exact expectations of the Rust library's own tests (safetensors/src/tensor.rs). */
describe('writeSafetensors matches the Rust safetensors serializer', () => {
  it('test_serialization', () => {
    const out = writeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) } });
    expect(Array.from(out)).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
      116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
      58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
      101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
      0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it('test_serialization_forced_alignement: the header is padded with spaces to a multiple of 8', () => {
    const out = writeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) } });
    expect(Array.from(out)).toEqual([
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
      121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
      91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
      115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
      32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
      160, 64,
    ]);
  });

  it('test_empty, with and without metadata', () => {
    expect(Array.from(writeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(Array.from(writeSafetensors({}, { framework: 'pt' }))).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
      95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
      116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  it('orders tensors by the Rust Dtype enum (descending), then by name as UTF-8 bytes', () => {
    const out = writeSafetensors({
      a_f16: { dtype: 'F16', shape: [1], data: new Uint16Array(1) },
      b_bf16: { dtype: 'BF16', shape: [1], data: new Uint16Array(1) },
      c_i32: { dtype: 'I32', shape: [1], data: new Int32Array(1) },
      d_f32: { dtype: 'F32', shape: [1], data: f32(1) },
      e_u8: { dtype: 'U8', shape: [1], data: new Uint8Array(1) },
      f_i8: { dtype: 'I8', shape: [1], data: new Int8Array(1) },
      '\uffff': { dtype: 'F32', shape: [1], data: f32(2) },
      '😀': { dtype: 'F32', shape: [1], data: f32(3) },
      '0': { dtype: 'F32', shape: [1], data: f32(4) },
    }, { format: 'pt' });
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const text = new TextDecoder().decode(out.subarray(8, 8 + n));
    const order = [...text.matchAll(/"([^"]+)":\{"(dtype|format)"/g)].map((m) => m[1]);
    expect(order).toEqual(['__metadata__', '0', 'd_f32', '\uffff', '😀', 'c_i32', 'b_bf16', 'a_f16', 'f_i8', 'e_u8']);
    const parsed = parseSafetensors(out);
    expect([...parsed.tensors.keys()].sort()).toEqual(['0', 'a_f16', 'b_bf16', 'c_i32', 'd_f32', 'e_u8', 'f_i8', '\uffff', '😀'].sort());
  });
});

describe('a safetensors file written a tensor at a time', () => {
  it('is the same bytes as the file written whole: the layout first, each tensor\'s bytes in its order', () => {
    const tensors = {
      'b.weight': { dtype: 'F32' as const, shape: [2, 3], data: f32(0.5, -1, 2, 3.25, -4, 5) },
      'a.weight': { dtype: 'I8' as const, shape: [4], data: new Int8Array([-128, -1, 0, 127]) },
      'c.bias': { dtype: 'F32' as const, shape: [1], data: f32(1e-7) },
    };
    const layout = safetensorsLayout(tensors, { format: 'pt' });
    const pieces = [layout.header, ...layout.tensors.map(({ name, byteLength }) => {
      const bytes = safetensorsTensorBytes(name, tensors[name as keyof typeof tensors]);
      expect(bytes.byteLength).toBe(byteLength);
      return bytes;
    })];
    const joined = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
    pieces.reduce((at, p) => (joined.set(p, at), at + p.byteLength), 0);
    expect(joined.byteLength).toBe(layout.byteLength);
    expect(joined).toEqual(writeSafetensors(tensors, { format: 'pt' }));
    expect(() => safetensorsTensorBytes('b.weight', { ...tensors['b.weight'], shape: [3, 3] })).toThrow('cannot write tensor "b.weight": 24 bytes given for shape [3, 3] of F32 (36 expected).');
  });
});
