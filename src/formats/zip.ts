/**
 * Reading a zip archive without trusting it. The central directory says what each entry is
 * and how many bytes it unpacks to; an entry is inflated a few kilobytes at a time into a
 * buffer of exactly that size, and only when that size is within a budget the caller sets
 * for the entry (from the kind of file and the model's dimensions). A small archive that
 * would unpack to gigabytes is refused, sizes named, after reading its directory; one whose
 * directory lies is stopped at the size it declared. A safetensors entry's budget narrows
 * further to what its own header describes, once the header has been inflated.
 */
import { Inflate, strFromU8 } from 'fflate';
import { StudioError, type StudioErrorCode } from '../errors';
import { formatBytes } from './bytes';

export interface ZipEntry {
  /** The path inside the archive, '/'-separated as the format requires. */
  name: string;
  /** 0 stored, 8 deflated (the only two an adapter uses). */
  method: number;
  flags: number;
  compressedSize: number;
  /** What the directory says the entry unpacks to. */
  size: number;
  crc: number;
  /** Offset of the entry's local header. */
  localOffset: number;
}

/** How a caller names the archive and what its failures are called. */
export interface ZipContext {
  /** e.g. "The adapter zip", "spam.zip": starts sentences. */
  label: string;
  code: StudioErrorCode;
  /** The sentence for a damaged or incomplete archive, and its hint. */
  damaged: { message: string; hint?: string };
}

export interface EntryBudget {
  /** The most bytes this entry may unpack to. */
  limit: number;
  /** What the limit is, for the message: "an adapter for this model can hold". */
  why: string;
  hint?: string;
  /**
   * `need(prefix)` says how many leading bytes the check needs (asked again as more arrive);
   * `check(prefix)` then returns the entry's exact size (e.g. from a safetensors header) or throws.
   */
  header?: { need: (prefix: Uint8Array) => number; check: (prefix: Uint8Array) => number };
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Compressed bytes pushed to the inflater at a time: deflate expands at most ~1032×, so one push yields at most ~4 MiB. */
const PUSH_BYTES = 4096;

function damaged(ctx: ZipContext): never {
  throw new StudioError(ctx.code, ctx.damaged.message, ctx.damaged.hint);
}

export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6);
}

/** Every entry the central directory lists, checked to lie inside the archive. */
export function readZipDirectory(zip: Uint8Array, ctx: ZipContext): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) damaged(ctx);
  const count = view.getUint16(end + 10, true);
  const size = view.getUint32(end + 12, true);
  let at = view.getUint32(end + 16, true);
  if (count === 0xffff || at === 0xffffffff || size === 0xffffffff) {
    throw new StudioError(ctx.code, `${ctx.label} uses the zip64 format (for archives over 4 GiB), which an adapter never needs.`,
      'Load the zip the studio exported, or unzip it and load the folder.');
  }
  if (at + size > end) damaged(ctx);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== CENTRAL) damaged(ctx);
    const nameLength = view.getUint16(at + 28, true);
    const entry: ZipEntry = {
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
      name: strFromU8(zip.subarray(at + 46, at + 46 + nameLength)),
    };
    if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff || entry.localOffset === 0xffffffff) {
      throw new StudioError(ctx.code, `${ctx.label} uses the zip64 format (for archives over 4 GiB), which an adapter never needs.`,
        'Load the zip the studio exported, or unzip it and load the folder.');
    }
    if (entry.localOffset + 30 > zip.length) damaged(ctx);
    entries.push(entry);
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return entries;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The part of an entry's name after its last folder. */
export const baseName = (name: string) => name.split('/').pop() ?? '';

function tooBig(ctx: ZipContext, entry: ZipEntry, size: number, budget: EntryBudget): never {
  throw new StudioError(ctx.code,
    `${ctx.label}'s ${baseName(entry.name)} unpacks to ${formatBytes(size)}, more than the ${formatBytes(budget.limit)} ${budget.why}.`,
    budget.hint ?? 'It is not a file the studio or PEFT wrote; load the adapter\'s own zip or folder.');
}

/**
 * One entry's bytes, inflated within `budget` and checked against the directory's CRC-32
 * (fflate does not check it, and adapter weights are stored uncompressed, so without it a
 * flipped bit would load silently).
 */
export function readZipEntry(zip: Uint8Array, entry: ZipEntry, budget: EntryBudget, ctx: ZipContext): Uint8Array {
  if (entry.flags & 1) {
    throw new StudioError(ctx.code, `${ctx.label} is encrypted (${baseName(entry.name)} needs a password).`, 'Unzip it yourself and load the folder.');
  }
  if (entry.method !== 0 && entry.method !== 8) {
    throw new StudioError(ctx.code, `${ctx.label}'s ${baseName(entry.name)} is compressed with method ${entry.method}; the studio reads stored and deflated entries (what every zip tool writes by default).`,
      'Unzip it yourself and load the folder.');
  }
  if (entry.size > budget.limit) tooBig(ctx, entry, entry.size, budget);
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  if (view.getUint32(entry.localOffset, true) !== LOCAL) damaged(ctx);
  const start = entry.localOffset + 30 + view.getUint16(entry.localOffset + 26, true) + view.getUint16(entry.localOffset + 28, true);
  if (start + entry.compressedSize > zip.length) damaged(ctx);
  const compressed = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0 && entry.compressedSize !== entry.size) damaged(ctx);

  // At most the declared size, grown as bytes arrive (so a lie is caught before it costs memory).
  const expected = entry.size;
  let out = new Uint8Array(Math.min(expected, 1 << 20));
  let filled = 0;
  let headerChecked = !budget.header;
  const write = (piece: Uint8Array) => {
    if (filled + piece.length > out.length) {
      // Doubling while a header is still to be checked; once it is (or if there is none), the declared size at once.
      const grown = new Uint8Array(headerChecked ? expected : Math.min(expected, Math.max(out.length * 2, filled + piece.length)));
      grown.set(out.subarray(0, filled));
      out = grown;
    }
    out.set(piece, filled);
    filled += piece.length;
  };
  const afterWrite = () => {
    if (headerChecked) return;
    const prefix = out.subarray(0, filled);
    if (filled < budget.header!.need(prefix) && filled < expected) return;
    headerChecked = true;
    const size = budget.header!.check(prefix);
    if (size > budget.limit) tooBig(ctx, entry, size, budget);
    if (size !== expected) {
      throw new StudioError(ctx.code,
        `${ctx.label}'s ${baseName(entry.name)} is ${formatBytes(expected)} in the archive's directory, but its own header describes ${formatBytes(size)}; the archive is damaged or was not written by the studio or PEFT.`,
        ctx.damaged.hint);
    }
  };
  if (entry.method === 0) {
    // Stored: copied through the same checks, a piece at a time.
    for (let i = 0; i < compressed.length; i += 1 << 16) {
      write(compressed.subarray(i, i + (1 << 16)));
      afterWrite();
    }
  } else {
    let overflow = false;
    const inflater = new Inflate((chunk) => {
      if (overflow) return;
      if (filled + chunk.length > expected) {
        overflow = true;
        return;
      }
      write(chunk);
    });
    try {
      for (let i = 0; i < compressed.length && !overflow; i += PUSH_BYTES) {
        inflater.push(compressed.subarray(i, i + PUSH_BYTES), i + PUSH_BYTES >= compressed.length);
        if (!overflow) afterWrite();
      }
    } catch (e) {
      if (e instanceof StudioError) throw e;
      damaged(ctx);
    }
    if (overflow) {
      throw new StudioError(ctx.code,
        `${ctx.label}'s ${baseName(entry.name)} unpacks to more than the ${formatBytes(expected)} its directory declares; the archive is damaged or crafted to exhaust memory, so it was not unpacked further.`,
        ctx.damaged.hint);
    }
  }
  if (filled !== expected) damaged(ctx);
  afterWrite();
  if (crc32(out) !== entry.crc) damaged(ctx);
  return out;
}
