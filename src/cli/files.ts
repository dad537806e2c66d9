/** Files the CLI reads and writes: data tables, adapters as folders or zips, outputs. */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { StudioError } from '../errors';
import { CHECKPOINT_FILE, README_FILE, STUDIO_FILE } from '../formats/bundle';
import { ADAPTER_CONFIG_FILE, ADAPTER_PICKLE_FILE, ADAPTER_WEIGHTS_FILE } from '../formats/peft';

/** The files of an adapter folder the studio reads; anything else in the folder is left alone. */
const ADAPTER_FOLDER_FILES = [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, ADAPTER_PICKLE_FILE, STUDIO_FILE, README_FILE, CHECKPOINT_FILE];

export function readDataFile(file: string | undefined, command: string): { fileName: string; bytes: Uint8Array } {
  if (file === undefined || file === '') {
    throw new StudioError('cli', `${command} needs --data FILE.csv.`, 'Run with --help for usage.');
  }
  const full = path.resolve(file);
  if (!existsSync(full)) throw new StudioError('cli', `The data file ${file} does not exist.`);
  if (!statSync(full).isFile()) throw new StudioError('cli', `${file} is a folder, not a CSV file.`);
  return { fileName: path.basename(full), bytes: new Uint8Array(readFileSync(full)) };
}

/** An adapter as importAdapter takes it: a folder's files by name, or a zip's bytes. */
export interface AdapterSource {
  /** The folder's or zip's base name without .zip: its name in the prompt library. */
  name: string;
  fileName: string;
  files?: Map<string, Uint8Array>;
  zip?: Uint8Array;
}

export function readAdapterSource(location: string | undefined, command: string, flag = '--adapter'): AdapterSource {
  if (location === undefined || location === '') {
    throw new StudioError('cli', `${command} needs ${flag} DIR|FILE.zip.`, 'Run with --help for usage.');
  }
  const full = path.resolve(location);
  if (!existsSync(full)) {
    throw new StudioError('cli', `The adapter ${location} does not exist.`,
      `Pass the folder holding ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE} (as train --out writes it), or the adapter zip.`);
  }
  const fileName = path.basename(full);
  const name = fileName.replace(/\.zip$/i, '');
  if (statSync(full).isDirectory()) {
    const files = new Map<string, Uint8Array>();
    for (const entry of readdirSync(full)) {
      if (!ADAPTER_FOLDER_FILES.includes(entry)) continue;
      const file = path.join(full, entry);
      if (statSync(file).isFile()) files.set(entry, new Uint8Array(readFileSync(file)));
    }
    if (!files.has(ADAPTER_CONFIG_FILE)) {
      throw new StudioError('cli', `The folder ${location} has no ${ADAPTER_CONFIG_FILE}, so it is not an adapter.`,
        `Pass the folder holding ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}, or the adapter zip.`);
    }
    return { name, fileName, files };
  }
  return { name, fileName, zip: new Uint8Array(readFileSync(full)) };
}

/** A resumable checkpoint: the .safetensors file, or the one inside an adapter folder or zip. */
export function readCheckpointFile(location: string): Uint8Array {
  const full = path.resolve(location);
  if (!existsSync(full)) throw new StudioError('cli', `The checkpoint ${location} does not exist.`);
  if (statSync(full).isDirectory()) {
    const inside = path.join(full, CHECKPOINT_FILE);
    if (!existsSync(inside)) throw new StudioError('cli', `The folder ${location} has no ${CHECKPOINT_FILE} to resume from.`);
    return new Uint8Array(readFileSync(inside));
  }
  const bytes = new Uint8Array(readFileSync(full));
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes, { filter: (f) => f.name === CHECKPOINT_FILE || f.name.endsWith(`/${CHECKPOINT_FILE}`) });
    } catch (e) {
      throw new StudioError('cli', `${location} is not a readable zip archive (${(e as Error).message}).`);
    }
    const found = Object.values(entries)[0];
    if (!found) throw new StudioError('cli', `The zip ${location} has no ${CHECKPOINT_FILE} to resume from.`);
    return found;
  }
  return bytes;
}

/** Writes files by name into a folder (created if need be); returns the paths written. */
export function writeFolder(dir: string, files: Map<string, Uint8Array>): string[] {
  const root = path.resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) throw new StudioError('cli', `${dir} exists and is not a folder.`);
  mkdirSync(root, { recursive: true });
  return [...files].map(([name, bytes]) => {
    const file = path.join(root, name);
    writeFileSync(file, bytes);
    return file;
  });
}

export function writeFile(file: string, bytes: Uint8Array | string): string {
  const full = path.resolve(file);
  if (existsSync(full) && statSync(full).isDirectory()) throw new StudioError('cli', `${file} is a folder; give a file name.`);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, bytes);
  return full;
}
