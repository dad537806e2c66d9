/**
 * Files the CLI reads and writes: data tables, adapters as folders or zips, checkpoints,
 * outputs. Every failure names the file and says what it is in words (a folder, a device,
 * a named pipe, a link that loops); files are sized before they are read and read in
 * bounded pieces; what is written goes to a temporary name first and is renamed into
 * place, so an output is either the old one or the whole new one, never half of each.
 */
import {
  closeSync, constants, fsyncSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmSync,
  statSync, writeSync, type Stats,
} from 'node:fs';
import path from 'node:path';
import { decodeBytes } from '../data';
import { isStudioError, StudioError } from '../errors';
import { CHECKPOINT_FILE, DEFAULT_BUNDLE_LIMITS, README_FILE, STUDIO_FILE, type BundleLimits } from '../formats/bundle';
import { formatBytes } from '../formats/bytes';
import { ADAPTER_CONFIG_FILE, ADAPTER_PICKLE_FILE, ADAPTER_WEIGHTS_FILE } from '../formats/peft';
import { baseName, isZip, readZipDirectory, readZipEntry, type ZipContext } from '../formats/zip';

/** The files of an adapter folder the studio reads and writes; anything else in the folder is left alone. */
export const ADAPTER_FOLDER_FILES = [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, ADAPTER_PICKLE_FILE, STUDIO_FILE, README_FILE, CHECKPOINT_FILE];

const MiB = 2 ** 20;
/** The largest CSV the CLI reads: its decoded text must fit in one JavaScript string (at most 2^29 characters). */
export const DATA_LIMIT = 512 * MiB;
/** adapter_config.json, studio.json, README.md. */
const TEXT_LIMIT = 16 * MiB;
/** Read in pieces of this size, so no single read allocates more. */
const CHUNK = 16 * MiB;

// ---- what a path is ----------------------------------------------------------------------

/** A file system error as a sentence that names the file: never a bare ELOOP or EISDIR. */
export function fileError(e: unknown, file: string, doing: 'read' | 'write' | 'create'): StudioError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const what: Record<string, string> = {
    ENOENT: 'it does not exist',
    EACCES: 'permission denied',
    EPERM: 'the operation is not permitted',
    ELOOP: 'it is a symbolic link that loops back on itself (or a chain of too many links)',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of the path is a file, not a folder',
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is used up',
    EROFS: 'the file system is read-only',
    ENAMETOOLONG: 'the name is too long',
    EMFILE: 'too many files are open',
    EIO: 'the device reported an input/output error',
    EBUSY: 'it is busy',
    EEXIST: 'something else is already there',
    EINVAL: 'the system does not allow it there',
  };
  const reason = (code && what[code]) ?? ((e as Error)?.message ?? String(e)).split('\n')[0];
  const verb = doing === 'read' ? 'read' : doing === 'write' ? 'write' : 'create';
  return new StudioError('cli', `Could not ${verb} ${file}: ${reason}${code ? ` (${code})` : ''}.`,
    doing === 'read' ? undefined : 'Choose another place to write to; nothing was changed there.');
}

/** What a path is, in words: "a folder", "a device (like /dev/null)", "a named pipe (FIFO)", "a socket", "a file". */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device (like /dev/null)';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  return 'a file';
}

/** Stats of a path, following links; null when nothing is there. Other failures are named. */
function statOrNull(file: string, shown: string): Stats | null {
  try {
    return statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // A link whose target is gone: say so rather than "does not exist".
      try {
        if (lstatSync(file).isSymbolicLink()) throw new StudioError('cli', `${shown} is a symbolic link to something that does not exist.`);
      } catch (inner) {
        if (inner instanceof StudioError) throw inner;
      }
      return null;
    }
    throw fileError(e, shown, 'read');
  }
}

/** Reads a regular file of at most `limit` bytes in pieces; `role` names it ("The data file"). */
function readBounded(full: string, shown: string, stats: Stats, limit: number, tooBig: (size: number) => StudioError): Uint8Array {
  if (stats.size > limit) throw tooBig(stats.size);
  let fd: number;
  try {
    fd = openSync(full, 'r');
  } catch (e) {
    throw fileError(e, shown, 'read');
  }
  try {
    const out = new Uint8Array(stats.size);
    let filled = 0;
    while (filled < out.length) {
      const n = readSync(fd, out, filled, Math.min(CHUNK, out.length - filled), filled);
      if (n === 0) break;
      filled += n;
    }
    return filled === out.length ? out : out.subarray(0, filled);
  } catch (e) {
    throw fileError(e, shown, 'read');
  } finally {
    closeSync(fd);
  }
}

function readPrefix(full: string, shown: string, bytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(full, 'r');
  } catch (e) {
    throw fileError(e, shown, 'read');
  }
  try {
    const out = new Uint8Array(bytes);
    return out.subarray(0, readSync(fd, out, 0, bytes, 0));
  } catch (e) {
    throw fileError(e, shown, 'read');
  } finally {
    closeSync(fd);
  }
}

// ---- data --------------------------------------------------------------------------------

export function readDataFile(file: string | undefined, command: string): { fileName: string; bytes: Uint8Array } {
  if (file === undefined || file === '') {
    throw new StudioError('cli', `${command} needs --data FILE.csv.`, 'Run with --help for usage.');
  }
  const full = path.resolve(file);
  const stats = statOrNull(full, file);
  if (!stats) throw new StudioError('cli', `The data file ${file} does not exist.`);
  if (!stats.isFile()) throw new StudioError('cli', `The data file ${file} is ${kindOf(stats)}, not a CSV file.`);
  // A binary file is named as one from its first bytes, before its size matters or it is read.
  try {
    decodeBytes(readPrefix(full, file, 64 * 1024));
  } catch (e) {
    throw isStudioError(e) ? new StudioError(e.code, `${file}: ${e.message}`, e.hint) : e;
  }
  const bytes = readBounded(full, file, stats, DATA_LIMIT, (size) => new StudioError('cli',
    `The data file ${file} is ${formatBytes(size)}; the studio reads CSV files up to ${formatBytes(DATA_LIMIT)} (the text of a larger one does not fit in one JavaScript string).`,
    'Split it into smaller files, or take a sample of its rows.'));
  return { fileName: path.basename(full), bytes };
}

// ---- adapters and checkpoints ------------------------------------------------------------

/** An adapter given on the command line, found but not read yet (its size limits come from the model). */
export interface AdapterLocation {
  /** The folder's or zip's base name without .zip: its name in the prompt library. */
  name: string;
  fileName: string;
  /** As given on the command line. */
  given: string;
  full: string;
  folder: boolean;
}

/** An adapter as importAdapter takes it: a folder's files by name, or a zip's bytes. */
export interface AdapterSource {
  name: string;
  fileName: string;
  files?: Map<string, Uint8Array>;
  zip?: Uint8Array;
}

const ADAPTER_HINT = `Pass the folder holding ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE} (as train --out writes it), or the adapter zip.`;

export function locateAdapter(location: string | undefined, command: string, flag = '--adapter'): AdapterLocation {
  if (location === undefined || location === '') {
    throw new StudioError('cli', `${command} needs ${flag} DIR|FILE.zip.`, 'Run with --help for usage.');
  }
  const full = path.resolve(location);
  const stats = statOrNull(full, location);
  if (!stats) throw new StudioError('cli', `The adapter ${location} does not exist.`, ADAPTER_HINT);
  if (!stats.isDirectory() && !stats.isFile()) throw new StudioError('cli', `The adapter ${location} is ${kindOf(stats)}, not a folder or a zip.`, ADAPTER_HINT);
  const fileName = path.basename(full);
  return { name: fileName.replace(/\.zip$/i, ''), fileName, given: location, full, folder: stats.isDirectory() };
}

/** The zip itself may hold at most what its files may unpack to (stored entries are as large as their files). */
const zipLimit = (limits: BundleLimits) => limits.weights + limits.checkpoint + 4 * TEXT_LIMIT;

/** Reads a located adapter: a folder's adapter files (each within its limit), or the zip's bytes (the engine unpacks it within the same limits). */
export function readAdapter(at: AdapterLocation, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): AdapterSource {
  const limitOf = (name: string) => (name === ADAPTER_WEIGHTS_FILE ? limits.weights : name === CHECKPOINT_FILE ? limits.checkpoint : TEXT_LIMIT);
  if (at.folder) {
    const files = new Map<string, Uint8Array>();
    let entries: string[];
    try {
      entries = readdirSync(at.full);
    } catch (e) {
      throw fileError(e, at.given, 'read');
    }
    for (const entry of entries) {
      if (!ADAPTER_FOLDER_FILES.includes(entry)) continue;
      const file = path.join(at.full, entry);
      const shown = path.join(at.given, entry);
      const stats = statOrNull(file, shown);
      if (!stats) continue;
      if (!stats.isFile()) throw new StudioError('cli', `${shown} is ${kindOf(stats)}, not a file.`, ADAPTER_HINT);
      files.set(entry, readBounded(file, shown, stats, limitOf(entry), (size) => new StudioError('cli',
        `${shown} is ${formatBytes(size)}, more than the ${formatBytes(limitOf(entry))} ${entry.endsWith('.safetensors') ? limits.why : `a ${entry} can reasonably hold`}.`,
        'It is not a file the studio or PEFT wrote for this model.')));
    }
    if (!files.has(ADAPTER_CONFIG_FILE)) {
      throw new StudioError('cli', `The folder ${at.given} has no ${ADAPTER_CONFIG_FILE}, so it is not an adapter.`,
        `Pass the folder holding ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}, or the adapter zip.`);
    }
    return { name: at.name, fileName: at.fileName, files };
  }
  const stats = statSync(at.full);
  const zip = readBounded(at.full, at.given, stats, zipLimit(limits), (size) => new StudioError('cli',
    `The adapter ${at.given} is ${formatBytes(size)}, more than the ${formatBytes(zipLimit(limits))} ${limits.why} with its checkpoint.`,
    'It is not an adapter the studio or PEFT wrote for this model.'));
  return { name: at.name, fileName: at.fileName, zip };
}

/** A resumable checkpoint given with --resume: the .safetensors file, or the one inside an adapter folder or zip. */
export interface CheckpointLocation {
  given: string;
  /** The file to read: the checkpoint itself, the one in the folder, or the zip. */
  full: string;
  kind: 'file' | 'zip';
}

export function locateCheckpoint(location: string): CheckpointLocation {
  const full = path.resolve(location);
  const stats = statOrNull(full, location);
  if (!stats) throw new StudioError('cli', `The checkpoint ${location} does not exist.`);
  if (stats.isDirectory()) {
    const inside = path.join(full, CHECKPOINT_FILE);
    const insideStats = statOrNull(inside, path.join(location, CHECKPOINT_FILE));
    if (!insideStats) throw new StudioError('cli', `The folder ${location} has no ${CHECKPOINT_FILE} to resume from.`);
    if (!insideStats.isFile()) throw new StudioError('cli', `${path.join(location, CHECKPOINT_FILE)} is ${kindOf(insideStats)}, not a file.`);
    return { given: path.join(location, CHECKPOINT_FILE), full: inside, kind: 'file' };
  }
  if (!stats.isFile()) throw new StudioError('cli', `The checkpoint ${location} is ${kindOf(stats)}, not a file.`);
  return { given: location, full, kind: isZip(readPrefix(full, location, 4)) ? 'zip' : 'file' };
}

/** The checkpoint's bytes, within what a checkpoint of this model can hold (from a zip: unpacked within the same bound). */
export function readCheckpointFile(at: CheckpointLocation, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): Uint8Array {
  const stats = statSync(at.full);
  const limit = at.kind === 'zip' ? zipLimit(limits) : limits.checkpoint;
  const bytes = readBounded(at.full, at.given, stats, limit, (size) => new StudioError('cli',
    `The checkpoint ${at.given} is ${formatBytes(size)}, more than the ${formatBytes(limit)} ${at.kind === 'zip' ? `${limits.why} with its checkpoint` : 'a checkpoint for this model can hold'}.`,
    'It is not a checkpoint the studio wrote for this model.'));
  if (at.kind === 'file') return bytes;
  const ctx: ZipContext = { label: at.given, code: 'cli', damaged: { message: `${at.given} is not a readable zip archive: it is damaged or incomplete.`, hint: 'Download it again, or unzip it and resume from the checkpoint.safetensors inside.' } };
  const entry = readZipDirectory(bytes, ctx).find((e) => baseName(e.name) === CHECKPOINT_FILE);
  if (!entry) throw new StudioError('cli', `The zip ${at.given} has no ${CHECKPOINT_FILE} to resume from.`);
  return readZipEntry(bytes, entry, { limit: limits.checkpoint, why: 'a checkpoint for this model can hold' }, ctx);
}

// ---- writing -------------------------------------------------------------------------------

/** Kernel and device trees: writing there hangs, fails oddly or does harm, never what a user means. */
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'];
/** …except shared memory, an ordinary (if temporary) place for files. */
const SYSTEM_EXCEPTIONS = ['/dev/shm'];

/** The nearest part of the path that exists, resolved through links. */
function existingAncestor(full: string): string {
  let at = full;
  for (;;) {
    try {
      return realpathSync(at);
    } catch {
      const up = path.dirname(at);
      if (up === at) return at;
      at = up;
    }
  }
}

function refuseSystemPath(full: string, flag: string, given: string): void {
  const real = existingAncestor(full);
  const under = (r: string) => real === r || real.startsWith(`${r}/`);
  const root = SYSTEM_EXCEPTIONS.some(under) ? undefined : SYSTEM_ROOTS.find(under);
  if (root) {
    throw new StudioError('cli', `${flag} ${given} is inside ${root}, a folder the system provides, not a place for files.`,
      `Give ${flag} a path in a folder of your own.`);
  }
}

/** Proves that a folder takes new entries (permissions, a read-only mount) by making and removing one. */
function probeWritable(dir: string, flag: string, given: string): void {
  let probe: string;
  try {
    probe = mkdtempSync(path.join(dir, '.studio-probe-'));
  } catch (e) {
    const err = fileError(e, dir, 'write');
    throw new StudioError('cli', `${flag} ${given} cannot be written: ${err.message.replace(/^Could not write [^:]*: /, '')}`,
      `Give ${flag} a path in a folder you can write to.`);
  }
  rmSync(probe, { recursive: true, force: true });
}

/**
 * Checks, before any work, that `dir` can become the output folder: not a file or device,
 * not under /proc, /sys or /dev, in a folder that can be written. Nothing is created.
 */
export function checkOutFolder(dir: string, flag = '--out'): string {
  const full = path.resolve(dir);
  refuseSystemPath(full, flag, dir);
  const stats = statOrNull(full, dir);
  if (stats) {
    if (!stats.isDirectory()) throw new StudioError('cli', `${flag} ${dir} exists and is ${kindOf(stats)}; give a folder name.`);
    probeWritable(full, flag, dir);
    return full;
  }
  const parent = existingAncestor(path.dirname(full));
  const parentStats = statOrNull(parent, parent);
  if (!parentStats?.isDirectory()) throw new StudioError('cli', `${flag} ${dir} cannot be created: ${parent} is ${parentStats ? kindOf(parentStats) : 'missing'}.`);
  probeWritable(parent, flag, dir);
  return full;
}

/** Checks, before any work, that `file` can be written: not a folder or device, not under a system folder, in a writable folder. */
export function checkOutFile(file: string, flag: string): string {
  const full = path.resolve(file);
  refuseSystemPath(full, flag, file);
  const stats = statOrNull(full, file);
  if (stats && !stats.isFile()) throw new StudioError('cli', `${flag} ${file} is ${kindOf(stats)}, not a file; give a file name.`);
  const dir = path.dirname(full);
  const dirStats = statOrNull(dir, dir);
  if (dirStats && !dirStats.isDirectory()) throw new StudioError('cli', `${flag} ${file} cannot be written: ${path.dirname(file)} is ${kindOf(dirStats)}.`);
  probeWritable(dirStats ? dir : existingAncestor(dir), flag, file);
  return full;
}

/** A file's bytes: whole, as text, or as pieces made one at a time (a file too large to hold whole). */
export type FileBytes = Uint8Array | string | Iterable<Uint8Array>;

function writeDurably(file: string, bytes: FileBytes): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
  try {
    const pieces = typeof bytes === 'string' ? [new TextEncoder().encode(bytes)] : bytes instanceof Uint8Array ? [bytes] : bytes;
    for (const data of pieces) {
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, Math.min(CHUNK, data.length - written));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const temporaryName = (name: string) => `.${name}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** Writes a file by writing a temporary one beside it and renaming it into place: the old file or the new one, never half. */
export function writeFile(file: string, bytes: Uint8Array | string, flag = '--out'): string {
  const full = checkOutFile(file, flag);
  mkdirSync(path.dirname(full), { recursive: true });
  const temporary = path.join(path.dirname(full), temporaryName(path.basename(full)));
  try {
    writeDurably(temporary, bytes);
    renameSync(temporary, full);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw fileError(e, file, 'write');
  }
  return full;
}

/**
 * Writes files by name into a folder so that it holds either what it held or all of the
 * new files, never a mix (new weights beside an old checkpoint): everything is written to
 * a temporary folder beside it first. A folder holding nothing but files of this kind is
 * then swapped for the new one; in a folder that also holds other files, each file is
 * renamed into place and files of `owned` that the new set lacks are removed (the
 * checkpoint last in, so a stop in between leaves no checkpoint rather than a wrong one).
 * Returns the paths written.
 */
export function writeFolder(dir: string, files: Map<string, FileBytes>, owned: readonly string[] = ADAPTER_FOLDER_FILES, flag = '--out'): string[] {
  const root = checkOutFolder(dir, flag);
  const parent = path.dirname(root);
  mkdirSync(parent, { recursive: true });
  const staging = path.join(parent, temporaryName(path.basename(root)));
  try {
    mkdirSync(staging);
    for (const [name, bytes] of files) writeDurably(path.join(staging, name), bytes);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw fileError(e, dir, 'write');
  }
  const mine = new Set([...files.keys(), ...owned]);
  let existing: string[] = [];
  try {
    existing = readdirSync(root);
  } catch {
    existing = [];
  }
  try {
    if (existing.every((name) => mine.has(name) || /^\..*\.tmp-\d+-/.test(name))) {
      // Swap: the old folder steps aside, the new one takes its name, the old one goes.
      const old = path.join(parent, temporaryName(`${path.basename(root)}.old`));
      if (existing.length || statOrNull(root, dir)) renameSync(root, old);
      renameSync(staging, root);
      rmSync(old, { recursive: true, force: true });
    } else {
      const order = [...files.keys()].sort((a, b) => Number(a === CHECKPOINT_FILE) - Number(b === CHECKPOINT_FILE));
      for (const name of existing) if (owned.includes(name) && (name === CHECKPOINT_FILE || !files.has(name))) rmSync(path.join(root, name), { force: true });
      for (const name of order) renameSync(path.join(staging, name), path.join(root, name));
      rmSync(staging, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw fileError(e, dir, 'write');
  }
  return [...files.keys()].map((name) => path.join(root, name));
}

/**
 * The checkpoint a run writes to its output folder as it goes, replacing the last one
 * atomically. The first one also clears the adapter files an earlier run left there, so
 * the folder never pairs another run's weights with this run's checkpoint.
 */
export function writeRunCheckpoint(dir: string, bytes: Uint8Array, first: boolean): string {
  const root = path.resolve(dir);
  try {
    mkdirSync(root, { recursive: true });
    if (first) for (const name of ADAPTER_FOLDER_FILES) if (name !== CHECKPOINT_FILE) rmSync(path.join(root, name), { force: true });
  } catch (e) {
    throw fileError(e, dir, 'write');
  }
  return writeFile(path.join(root, CHECKPOINT_FILE), bytes, '--out');
}
