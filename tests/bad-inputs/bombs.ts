/**
 * Zip archives that unpack to far more than they hold, built in the test (never committed):
 * a deflate stream of zeros written by hand, about 1,000 unpacked bytes per packed byte,
 * so a 1 GiB entry is a 1 MiB zip and costs no time to make.
 *
 * The stream: an optional stored block with the bytes the entry starts with (say, a
 * safetensors header), then one dynamic-Huffman block whose literal/length code has three
 * symbols (literal 0, end of block, length 258) and whose distance code has two (the first,
 * distance 1, is the only one used). A literal 0 then "copy 258 bytes from 1 back" over and
 * over is 2 bits per 258 zeros; those bits are all 0, so the body is a run of zero bytes.
 */
import { strToU8 } from 'fflate';
import { crc32 } from '../../src/formats/zip';

class BitWriter {
  private bytes: Uint8Array;
  private bit = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /** `count` bits of `value`, least significant first (how deflate packs fixed-width fields). */
  bits(value: number, count: number): void {
    for (let i = 0; i < count; i++) {
      if ((value >> i) & 1) this.bytes[this.bit >> 3] |= 1 << (this.bit & 7);
      this.bit++;
    }
  }

  /** A Huffman code of `length` bits, most significant first (how deflate packs codes). */
  code(code: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.bits((code >> i) & 1, 1);
  }

  skip(count: number): void {
    this.bit += count;
  }

  alignToByte(): void {
    this.bit = (this.bit + 7) & ~7;
  }

  rawBytes(data: Uint8Array): void {
    this.bytes.set(data, this.bit >> 3);
    this.bit += data.length * 8;
  }

  finish(): Uint8Array {
    return this.bytes.subarray(0, (this.bit + 7) >> 3);
  }
}

/** A raw deflate stream of `prefix` followed by at least `zeros` zero bytes; `size` is exactly what it unpacks to. */
export function deflatedZeros(prefix: Uint8Array, zeros: number): { data: Uint8Array; size: number } {
  const pairs = Math.max(0, Math.ceil((zeros - 1) / 258));
  const w = new BitWriter(prefix.length + 64 + Math.ceil((pairs * 2) / 8) + 16);
  if (prefix.length > 0) {
    // Stored block, not final: the prefix as is.
    w.bits(0, 1);
    w.bits(0, 2);
    w.alignToByte();
    w.bits(prefix.length, 16);
    w.bits(~prefix.length & 0xffff, 16);
    w.rawBytes(prefix);
  }
  // Dynamic block, final.
  w.bits(1, 1);
  w.bits(2, 2);
  w.bits(286 - 257, 5); // HLIT: literal/length codes 0..285
  w.bits(2 - 1, 5); // HDIST: distance codes 0..1
  w.bits(18 - 4, 4); // HCLEN: code-length code lengths given for the first 18 in the order below
  // Code-length alphabet: 18 (a run of zeros) 1 bit, 1 and 2 two bits each.
  const clLengths: Record<number, number> = { 18: 1, 1: 2, 2: 2 };
  for (const sym of [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1]) w.bits(clLengths[sym] ?? 0, 3);
  // Canonical codes: 18 → 0, 1 → 10, 2 → 11.
  const cl = (sym: 1 | 2 | 18) => (sym === 18 ? w.code(0, 1) : w.code(sym === 1 ? 0b10 : 0b11, 2));
  const zeroRun = (n: number) => {
    cl(18);
    w.bits(n - 11, 7);
  };
  // Literal/length lengths: 0 → 2, 1..255 → 0, 256 → 2, 257..284 → 0, 285 → 1; distances 0 → 1, 1 → 1.
  cl(2);
  zeroRun(138);
  zeroRun(117);
  cl(2);
  zeroRun(28);
  cl(1);
  cl(1);
  cl(1);
  // Canonical literal/length codes: 285 → 0, 0 → 10, 256 → 11; distance 0 → 0.
  w.code(0b10, 2); // literal 0
  w.skip(pairs * 2); // each pair: length 258 (code 0), distance 1 (code 0)
  w.code(0b11, 2); // end of block
  return { data: w.finish(), size: prefix.length + 1 + 258 * pairs };
}

export interface RawZipEntry {
  name: string;
  /** Packed bytes (deflate when method 8). */
  data: Uint8Array;
  method: 0 | 8;
  /** What the directory says the entry unpacks to (a lie, if the test wants one). */
  size: number;
  crc?: number;
}

/**
 * A zip archive of these entries exactly as given: sizes and CRCs are written as stated,
 * so an entry may claim another size than it unpacks to. (The reader refuses these before
 * any CRC is computed, so the CRC is left 0 unless given.)
 */
export function rawZip(entries: RawZipEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = strToU8(e.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, e.method, true);
    lv.setUint32(14, e.crc ?? 0, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const dir = new Uint8Array(46 + name.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, 0x02014b50, true);
    dv.setUint16(4, 20, true);
    dv.setUint16(6, 20, true);
    dv.setUint16(10, e.method, true);
    dv.setUint32(16, e.crc ?? 0, true);
    dv.setUint32(20, e.data.length, true);
    dv.setUint32(24, e.size, true);
    dv.setUint16(28, name.length, true);
    dv.setUint32(42, offset, true);
    dir.set(name, 46);
    parts.push(local, e.data);
    central.push(dir);
    offset += local.length + e.data.length;
  }
  const dirBytes = central.reduce((a, b) => a + b.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirBytes, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + dirBytes + 22);
  let at = 0;
  for (const p of [...parts, ...central, end]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An entry stored as is, with its true size and CRC. */
export const stored = (name: string, bytes: Uint8Array): RawZipEntry => ({ name, data: bytes, method: 0, size: bytes.length, crc: crc32(bytes) });

/** An entry of `prefix` then zeros, packed about 1,000 to 1; `claim` overrides the size the directory states. */
export function zeros(name: string, prefix: Uint8Array, count: number, claim?: number): RawZipEntry {
  const { data, size } = deflatedZeros(prefix, count);
  return { name, data, method: 8, size: claim ?? size };
}
