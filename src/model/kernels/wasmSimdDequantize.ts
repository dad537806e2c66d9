/**
 * Dequantizing int8 rows with WebAssembly SIMD, inside tfjs-wasm's own memory. The same work
 * as int8Rows.ts's plain loop, which costs 5-8 ns a value on typed arrays over wasm memory
 * (V8 cannot keep their bounds in registers: the memory may grow) — about 5% of a real-size
 * step, and more where the matmuls run on several threads and this on one. Here eight values
 * take one 8-byte load, two widenings, two conversions, two multiplies and two stores.
 *
 * The module is assembled here, a few hundred bytes, and instantiated against the backend's
 * WebAssembly.Memory (exported by tfjs-wasm's single-threaded builds, Module.wasmMemory in the
 * threaded one), so it reads the packed weights and writes the output tensor in place: no copy
 * in or out. It covers the bulk of a tile (rows by the vector width, columns by 8 or 4); the
 * caller finishes the edges with its scalar loop. Where WebAssembly SIMD or the memory is
 * missing, `simdDequantizer` answers null and the scalar loop does all of it.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export interface SimdDequantizer {
  /**
   * out[i, c] = int8 at src + row·rowBytes + c, times the float32 at scales + 4·row, for
   * row = ids[i] (int32 at ids + 4i) or start + i when ids is 0; i < n, c < cols8 (a multiple
   * of 8 ≤ cols); out rows are `cols` floats apart. Every argument is a byte address or a count.
   */
  rows(src: number, rowBytes: number, scales: number, ids: number, start: number, n: number, cols8: number, cols: number, out: number): void;
  /** out[c, i] = the same value, rows start + i for i < n4 (a multiple of 4), c < cols4 (a multiple of 4); out rows are n floats apart. */
  transposed(src: number, rowBytes: number, scales: number, start: number, n4: number, cols4: number, n: number, out: number): void;
}

const I32 = 0x7f;
const V128 = 0x7b;

/** Unsigned LEB128, as the binary format writes counts, indices and sizes. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** One function body: opcodes with their immediates, and the structured loops it needs. */
class Body {
  readonly bytes: number[] = [];

  private uleb(n: number): this {
    this.bytes.push(...uleb(n));
    return this;
  }

  private op(...codes: number[]): this {
    this.bytes.push(...codes);
    return this;
  }

  get(local: number): this { return this.op(0x20).uleb(local); }
  set(local: number): this { return this.op(0x21).uleb(local); }
  /** A small non-negative constant (one-byte signed LEB128). */
  const(n: number): this {
    if (n < 0 || n > 63) throw new Error(`i32.const ${n} is outside the one-byte range`);
    return this.op(0x41, n);
  }

  add(): this { return this.op(0x6a); }
  mul(): this { return this.op(0x6c); }
  shl(): this { return this.op(0x74); }

  /** local += n */
  increment(local: number, n: number): this { return this.get(local).const(n).add().set(local); }
  /** local += other */
  advance(local: number, other: number): this { return this.get(local).get(other).add().set(local); }

  /** i32.load at the address on the stack (align 4). */
  loadI32(): this { return this.op(0x28, 2, 0); }
  loadF32(): this { return this.op(0x2a, 2, 0); }

  private simd(code: number, ...immediates: number[]): this {
    this.op(0xfd).uleb(code);
    return this.op(...immediates);
  }

  v128Load(): this { return this.simd(0x00, 0, 0); }
  /** Eight int8 at the address, sign-extended to i16x8. */
  load8x8s(): this { return this.simd(0x01, 0, 0); }
  v128Store(offset = 0): this { return this.simd(0x0b, 0).uleb(offset); }
  shuffle(lanes: number[]): this { return this.simd(0x0d, ...lanes); }
  f32x4Splat(): this { return this.simd(0x13); }
  load32Lane(lane: number): this { return this.simd(0x56, 0, 0, lane); }
  load32Zero(): this { return this.simd(0x5c, 0, 0); }
  i16x8ExtendLowS(): this { return this.simd(0x87); }
  i16x8ExtendHighS(): this { return this.simd(0x88); }
  i32x4ExtendLowS(): this { return this.simd(0xa7); }
  i32x4ExtendHighS(): this { return this.simd(0xa8); }
  f32x4Mul(): this { return this.simd(0xe6); }
  f32x4ConvertI32x4S(): this { return this.simd(0xfa); }

  /** while (counter < limit) { body } — unsigned compare; counter and limit are locals. */
  whileBelow(counter: number, limit: number, body: () => void): this {
    this.op(0x02, 0x40, 0x03, 0x40); // block, loop
    this.get(counter).get(limit).op(0x4f, 0x0d, 1); // i32.ge_u; br_if to the block's end
    body();
    return this.op(0x0c, 0, 0x0b, 0x0b); // br to the loop; end loop; end block
  }

  /** local.get flag ? then : otherwise, an i32. */
  ifElse(flag: number, then: () => void, otherwise: () => void): this {
    this.get(flag).op(0x04, I32);
    then();
    this.op(0x05);
    otherwise();
    return this.op(0x0b);
  }

  /** The converted, scaled lanes of an i32x4 on the stack, stored at address local `at`. */
  scaledStore(at: number, scales: number, offset = 0): this {
    return this.f32x4ConvertI32x4S().get(scales).f32x4Mul().storeFromStack(at, offset);
  }

  private storeFromStack(at: number, offset: number): this {
    // v128.store takes (address, value): the value is already on the stack, so it goes
    // through a scratch local.
    return this.set(SCRATCH).get(at).get(SCRATCH).v128Store(offset);
  }
}

/** Both functions keep their scratch v128 in local 20 (their other locals are below it). */
const SCRATCH = 20;

function rowsBody(): Body {
  const [src, rowBytes, scales, ids, start, n, cols8, cols, out] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, row, p, q, c, at] = [9, 10, 11, 12, 13, 14];
  const [scale, v] = [18, 19];
  const b = new Body();
  b.whileBelow(i, n, () => {
    b.ifElse(ids, () => b.get(ids).get(i).const(2).shl().add().loadI32(), () => b.get(start).get(i).add()).set(row);
    b.get(scales).get(row).const(2).shl().add().loadF32().f32x4Splat().set(scale);
    b.get(src).get(row).get(rowBytes).mul().add().set(p);
    b.get(out).get(i).get(cols).mul().const(2).shl().add().set(q);
    b.const(0).set(c);
    b.whileBelow(c, cols8, () => {
      b.get(p).get(c).add().load8x8s().set(v);
      b.get(q).get(c).const(2).shl().add().set(at);
      b.get(v).i32x4ExtendLowS().scaledStore(at, scale);
      b.get(v).i32x4ExtendHighS().scaledStore(at, scale, 16);
      b.increment(c, 8);
    });
    b.increment(i, 1);
  });
  return b;
}

/** Four rows' four bytes [r0c0..r0c3, r1c0.., ...] → column-major [r0c0 r1c0 r2c0 r3c0, r0c1 ...]. */
const TRANSPOSE_4x4 = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];

function transposedBody(): Body {
  const [src, rowBytes, scales, start, n4, cols4, n, out] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [i, p, q, c, stride, at, rows2, rows3] = [9, 10, 11, 12, 13, 14, 15, 16];
  const [scale, t, a] = [17, 18, 19];
  const b = new Body();
  b.get(n).const(2).shl().set(stride);
  b.get(rowBytes).get(rowBytes).add().set(rows2);
  b.get(rows2).get(rowBytes).add().set(rows3);
  const storeColumn = () => b.scaledStore(q, scale).advance(q, stride);
  b.whileBelow(i, n4, () => {
    b.get(src).get(start).get(i).add().get(rowBytes).mul().add().set(p);
    b.get(scales).get(start).get(i).add().const(2).shl().add().v128Load().set(scale);
    b.get(out).get(i).const(2).shl().add().set(q);
    b.const(0).set(c);
    b.whileBelow(c, cols4, () => {
      b.get(p).get(c).add().set(at);
      b.get(at).load32Zero().set(t);
      b.get(at).get(rowBytes).add().get(t).load32Lane(1).set(t);
      b.get(at).get(rows2).add().get(t).load32Lane(2).set(t);
      b.get(at).get(rows3).add().get(t).load32Lane(3).set(t);
      b.get(t).get(t).shuffle(TRANSPOSE_4x4).set(t);
      b.get(t).i16x8ExtendLowS().set(a);
      b.get(a).i32x4ExtendLowS(); storeColumn();
      b.get(a).i32x4ExtendHighS(); storeColumn();
      b.get(t).i16x8ExtendHighS().set(a);
      b.get(a).i32x4ExtendLowS(); storeColumn();
      b.get(a).i32x4ExtendHighS(); storeColumn();
      b.increment(c, 4);
    });
    b.increment(i, 4);
  });
  return b;
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

/**
 * The module's bytes: two functions of i32 arguments, importing env.memory — shared (with
 * tfjs's 4 GiB maximum) when the threaded build's memory is, as an import must match.
 */
export function dequantizeModuleBytes(sharedMemory: boolean): Uint8Array<ArrayBuffer> {
  const params = (count: number) => [0x60, ...uleb(count), ...new Array(count).fill(I32), 0];
  const memoryLimits = sharedMemory ? [0x03, 0, ...uleb(65536)] : [0x00, 0];
  // Locals after the parameters, up to index 20: i32s through 16, v128s from 17 (the rows
  // function's i32 locals stop at 14 and its v128s sit at 18-19; 15-17 go unused there).
  const locals = (params: number) => vec([[...uleb(17 - params), I32], [...uleb(4), V128]]);
  const code = (params: number, body: Body) => {
    const fn = [...locals(params), ...body.bytes, 0x0b];
    return [...uleb(fn.length), ...fn];
  };
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([params(9), params(8)])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...memoryLimits]])),
    ...section(3, vec([[0], [1]])),
    ...section(7, vec([[...name('rows'), 0x00, 0], [...name('transposed'), 0x00, 1]])),
    ...section(10, vec([code(9, rowsBody()), code(8, transposedBody())])),
  ]);
}

type WasmModuleWithMemory = { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };

const instances = new WeakMap<WebAssembly.Memory, SimdDequantizer | null>();

/** The dequantizer for this backend's memory, or null where SIMD or the memory is not to be had. */
export function simdDequantizer(backend: BackendWasm): SimdDequantizer | null {
  const module = backend.wasm as unknown as WasmModuleWithMemory;
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (instances.has(memory)) return instances.get(memory)!;
  let made: SimdDequantizer | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = dequantizeModuleBytes(shared);
    if (WebAssembly.validate(bytes)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      made = instance.exports as unknown as SimdDequantizer;
    }
  } catch {
    made = null; // e.g. a CSP without 'wasm-unsafe-eval': the scalar loop still works
  }
  instances.set(memory, made);
  return made;
}
