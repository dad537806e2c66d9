/**
 * Files from a drop, folders included: DataTransferItem.webkitGetAsEntry gives entries
 * that can be walked, where DataTransfer.files lists a dropped folder as one empty file.
 * Names keep their path inside the drop ("my-model/config.json").
 */
export interface NamedFile {
  name: string;
  file: File;
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns at most ~100 entries per call; call until it returns none.
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () => reader.readEntries((batch) => {
      if (batch.length === 0) resolve(out);
      else {
        out.push(...batch);
        next();
      }
    }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: NamedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ name: entry.fullPath.replace(/^\//, ''), file });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, out);
  }
}

export async function droppedFiles(data: DataTransfer): Promise<NamedFile[]> {
  // Entries must be taken synchronously, before the first await: the DataTransfer empties after the event.
  const entries = [...data.items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) return [...data.files].map((file) => ({ name: file.name, file }));
  const out: NamedFile[] = [];
  for (const e of entries) await walk(e, out);
  return out;
}

/** Files from the picker: a folder pick carries webkitRelativePath. */
export function pickedFiles(files: File[]): NamedFile[] {
  return files.map((file) => ({ name: file.webkitRelativePath || file.name, file }));
}
