/**
 * The bad-input corpus: every way a user can hand the studio something wrong, with the
 * exact words they read in return — the message, and on its own line the hint (what to do).
 * This file is the one list: CSV files, model folders and URLs, adapters, checkpoints and
 * training settings.
 *
 * Every case runs against the engine in Node (bad-inputs.test.ts); the command-line cases
 * through runCli, as the terminal shows them. The cases marked `ui` also run through the
 * page in Chromium (e2e/bad-inputs.spec.ts), which asserts the same words on screen
 * (adapters through the Prompts panel). Resuming from a checkpoint file has no control on
 * the page, so those cases are Node only.
 *
 * Cases build their bytes when asked (`bytes()`, `files()`), so importing the corpus is cheap.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import type { StudioErrorCode } from '../../src/errors';
import { DEFAULT_SPLIT } from '../../src/data';
import { readCheckpoint, writeCheckpoint } from '../../src/tuning/checkpoint';
import type { AdapterInfo } from '../../src/engine/api';
import { adapterBundleFiles, writeAdapterZip, type AdapterBundleInput } from '../../src/formats/bundle';
import { validateTrainConfig } from '../../src/tuning/config';
import { rawZip, stored, zeros } from './bombs';
import type { ModelFingerprint } from '../../src/formats/fingerprint';
import { writeSafetensors, type TensorToWrite } from '../../src/formats/safetensors';

export type Area = 'csv' | 'model' | 'adapter' | 'checkpoint' | 'settings' | 'cli';

/** What the user reads: `code` is the StudioError's (the page's error note carries it as data-code). */
export interface Expected {
  code: StudioErrorCode;
  message: string;
  hint?: string;
}

/** The split the page uses by default; Node uses it too, so counts agree. */
export const PAGE_SPLIT = DEFAULT_SPLIT;

const utf8 = (s: string) => new TextEncoder().encode(s);
const rows = (n: number, label: (i: number) => string = (i) => (i % 2 ? 'spam' : 'ham')) =>
  Array.from({ length: n }, (_, i) => `message number ${i},${label(i)}`).join('\n');

function utf16(s: string, bigEndian = false): Uint8Array {
  const out = new Uint8Array(2 + s.length * 2);
  out[0] = bigEndian ? 0xfe : 0xff;
  out[1] = bigEndian ? 0xff : 0xfe;
  for (let i = 0; i < s.length; i++) {
    const [lo, hi] = [s.charCodeAt(i) & 0xff, s.charCodeAt(i) >> 8];
    out[2 + 2 * i] = bigEndian ? hi : lo;
    out[3 + 2 * i] = bigEndian ? lo : hi;
  }
  return out;
}

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const PNG = () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3]);

// ---- CSV files ----------------------------------------------------------------------------

export interface CsvCase {
  id: string;
  area: 'csv';
  describe: string;
  fileName: string;
  bytes: () => Uint8Array;
  /** The error the user reads, or null when the file loads. */
  error: Expected | null;
  /** Exactly the warnings shown for the file and its dataset, when it loads. */
  warnings?: string[];
  /** Every rejected row's line and reason, when it loads. */
  rejected?: { line: number; reason: string }[];
  /** What must be true of the loaded data. */
  check?: { rows?: number; columns?: string[]; labels?: [string, number][]; encoding?: string; previewRows?: number };
  /** Cells the preview shows exactly as written (never interpreted as markup or formulas). */
  shows?: string[];
  ui?: boolean;
}

const SINGLE_B = 'Label "b" has only one example, which stays in training, so the model cannot be validated on it. Add more examples of it.';
const SAME_LABEL_HINT = 'A classifier needs at least two labels: add examples of another class, or check that "label" is really the label column.';
const SAVE_AS_CSV = 'Save or export your data as a CSV file (UTF-8) and upload that.';

export const CSV_CASES: CsvCase[] = [
  {
    id: 'csv-empty', area: 'csv', describe: 'an empty file', fileName: 'empty.csv', bytes: () => new Uint8Array(0), ui: true,
    error: { code: 'csv', message: 'The file is empty.', hint: 'Choose a CSV file with a header row (for example "text,label") and at least two labeled rows.' },
  },
  {
    id: 'csv-blank-lines', area: 'csv', describe: 'only blank lines and spaces', fileName: 'blank.csv', bytes: () => utf8('\n\n   \r\n\t\n'),
    error: { code: 'csv', message: 'The file is empty.', hint: 'Choose a CSV file with a header row (for example "text,label") and at least two labeled rows.' },
  },
  {
    id: 'csv-header-only', area: 'csv', describe: 'a header and no rows', fileName: 'header.csv', bytes: () => utf8('text,label\n'),
    error: {
      code: 'csv', message: 'The file has a header row (text, label) but no data rows.',
      hint: 'Add at least two labeled rows under the header, or, if that first line is data, say that the file has no header.',
    },
  },
  {
    id: 'csv-one-row', area: 'csv', describe: 'a single data row', fileName: 'one.csv', bytes: () => utf8('text,label\nhello there,a\n'), ui: true,
    error: { code: 'data', message: 'The file has only one usable row (label "a"), so there is nothing to tell apart.', hint: SAME_LABEL_HINT },
  },
  {
    id: 'csv-one-class', area: 'csv', describe: 'every row has the same label', fileName: 'oneclass.csv', bytes: () => utf8('text,label\nhello,a\nworld,a\nagain,a\n'),
    error: { code: 'data', message: 'All 3 usable rows have the same label ("a"), so there is nothing to tell apart.', hint: SAME_LABEL_HINT },
  },
  {
    id: 'csv-single-example-label', area: 'csv', describe: 'a label with a single example', fileName: 'single.csv', ui: true,
    bytes: () => utf8('text,label\nhello,a\nworld,a\nfoo,b\nbar,a\nbaz,c\nqux,c\n'), error: null,
    warnings: [SINGLE_B], check: { labels: [['a', 3], ['b', 1], ['c', 2]] },
  },
  {
    id: 'csv-missing-labels', area: 'csv', describe: 'rows without a label', fileName: 'missing.csv',
    bytes: () => utf8('text,label\nhello,a\nworld,\nfoo,b\nbar,a\nbaz,b\n'), error: null, warnings: [], ui: true,
    rejected: [{ line: 3, reason: 'The label is missing (column "label" is empty).' }], check: { labels: [['a', 2], ['b', 2]] },
  },
  {
    id: 'csv-no-usable-rows', area: 'csv', describe: 'no row has a label', fileName: 'nolabels.csv',
    bytes: () => utf8('text,label\nhello,\nworld,\nfoo,\n'),
    error: {
      code: 'data',
      message: 'None of the rows could be used (3 rows were rejected). line 2: The label is missing (column "label" is empty). '
        + 'line 3: The label is missing (column "label" is empty). line 4: The label is missing (column "label" is empty).',
      hint: 'Check the delimiter, quotes and column choice; the list of rejected rows says what is wrong with each.',
    },
  },
  {
    id: 'csv-unterminated-quote', area: 'csv', describe: 'a quote that is never closed', fileName: 'quote.csv', ui: true,
    bytes: () => utf8('text,label\nhello,a\n"broken,b\nfoo,b\nbar,a\nbaz,b\n'), error: null, warnings: [],
    rejected: [{ line: 3, reason: 'The row on line 3 opens a quoted field (") that is never closed. The line was skipped and reading went on with the next line; close the quote, or double any quote inside a quoted text ("").' }],
  },
  {
    id: 'csv-mixed-delimiters', area: 'csv', describe: 'a semicolon row in a comma file', fileName: 'mixed.csv',
    bytes: () => utf8('text,label\nhello,a\nworld;b\nfoo,b\nbar,a\nbaz,b\n'), error: null, warnings: [],
    rejected: [{ line: 3, reason: 'This row has 1 field, but the table has 2 columns (text, label). A value or a comma may be missing.' }],
  },
  {
    id: 'csv-utf8-bom', area: 'csv', describe: 'a UTF-8 byte order mark', fileName: 'bom.csv',
    bytes: () => utf8('\ufefftext,label\n' + rows(6)), error: null, warnings: [], check: { rows: 6, columns: ['text', 'label'] },
  },
  {
    id: 'csv-crlf', area: 'csv', describe: 'Windows line ends', fileName: 'crlf.csv',
    bytes: () => utf8(('text,label\n' + rows(6)).replaceAll('\n', '\r\n')), error: null, warnings: [], check: { rows: 6 },
  },
  {
    id: 'csv-lone-cr', area: 'csv', describe: 'old Mac line ends (CR only)', fileName: 'cr.csv',
    bytes: () => utf8(('text,label\n' + rows(6)).replaceAll('\n', '\r')), error: null, warnings: [], check: { rows: 6 },
  },
  {
    id: 'csv-mixed-line-ends', area: 'csv', describe: 'two files pasted together: CRLF, LF and CR line ends', fileName: 'pasted.csv',
    bytes: () => utf8('text,label\r\nhello,a\r\nworld,b\nfoo,a\rbar,b\n'), error: null, check: { rows: 4 },
    warnings: ['The file mixes line-end styles (Windows CRLF, Unix LF, old Mac CR); all of them were read as line ends.'],
  },
  {
    id: 'csv-utf16', area: 'csv', describe: 'a UTF-16 file (Excel "Unicode text")', fileName: 'utf16.csv', ui: true,
    bytes: () => utf16('text,label\ncafé au lait,a\nnaïve,b\nfoo,a\nbar,b\n'), error: null, warnings: [],
    check: { rows: 4, encoding: 'utf-16le' }, shows: ['café au lait', 'naïve'],
  },
  {
    id: 'csv-utf16be', area: 'csv', describe: 'a big-endian UTF-16 file', fileName: 'utf16be.csv',
    bytes: () => utf16('text,label\ncafé au lait,a\nnaïve,b\nfoo,a\nbar,b\n', true), error: null, warnings: [],
    check: { rows: 4, encoding: 'utf-16be' }, shows: ['café au lait'],
  },
  {
    id: 'csv-latin1', area: 'csv', describe: 'a Latin-1 file', fileName: 'latin1.csv',
    bytes: () => latin1('text,label\ncaf\u00e9,a\nna\u00efve,b\nfoo,a\nbar,b\n'), error: null,
    check: { rows: 4, encoding: 'windows-1252' }, shows: ['café', 'naïve'],
  },
  {
    id: 'csv-binary', area: 'csv', describe: 'a PNG renamed to .csv', fileName: 'picture.csv', ui: true, bytes: PNG,
    error: { code: 'csv', message: 'This file looks binary (it is a PNG image), not a CSV. A CSV file is plain text.', hint: SAVE_AS_CSV },
  },
  {
    id: 'csv-xlsx', area: 'csv', describe: 'an Excel workbook renamed to .csv', fileName: 'workbook.csv',
    bytes: () => zipSync({ '[Content_Types].xml': strToU8('<Types/>'), 'xl/workbook.xml': strToU8('<workbook/>') }),
    error: {
      code: 'csv', message: 'This file looks binary (it is a ZIP archive; Excel .xlsx workbooks are ZIP archives), not a CSV. A CSV file is plain text.',
      hint: 'In Excel use File > Save As > "CSV UTF-8 (Comma delimited)" and upload the .csv file; if it is a .zip, unpack it first.',
    },
  },
  {
    id: 'csv-duplicate-columns', area: 'csv', describe: 'two columns with the same name', fileName: 'dup.csv', ui: true,
    bytes: () => utf8('text,text,label\nhello,x,a\nworld,y,b\nfoo,z,b\nbar,w,a\n'), error: null,
    warnings: ['Some column names appear more than once, so later copies were renamed: "text" → "text_2".'],
    check: { columns: ['text', 'text_2', 'label'] },
  },
  {
    id: 'csv-formula-cells', area: 'csv', describe: 'spreadsheet formulas in text cells', fileName: 'formula.csv', ui: true,
    bytes: () => utf8('text,label\n"=HYPERLINK(""http://example.com"",""win"")",spam\n+44 call now,spam\nsee you,ham\n@SUM(A1:A2),ham\n'),
    error: null, warnings: [], check: { rows: 4 }, shows: ['=HYPERLINK("http://example.com","win")', '+44 call now', '@SUM(A1:A2)'],
  },
  {
    id: 'csv-html-script', area: 'csv', describe: 'HTML and script in text cells', fileName: 'html.csv', ui: true,
    bytes: () => utf8('text,label\n<script>window.__pwned=1</script>,spam\n<img src=x onerror="window.__pwned=2">,spam\nsee you,ham\nok,ham\n'),
    error: null, warnings: [], check: { rows: 4 }, shows: ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=2">'],
  },
  {
    id: 'csv-rtl-emoji', area: 'csv', describe: 'right-to-left and emoji text', fileName: 'rtl.csv', ui: true,
    bytes: () => utf8('text,label\nשלום עולם 👋,greeting\nمرحبا بالعالم 🌍,greeting\n👨‍👩‍👧 family 🇺🇳,other\nok 😀,other\n'), error: null, warnings: [],
    check: { rows: 4, labels: [['greeting', 2], ['other', 2]] }, shows: ['שלום עולם 👋', 'مرحبا بالعالم 🌍', '👨‍👩‍👧 family 🇺🇳'],
  },
  {
    id: 'csv-50mb', area: 'csv', describe: 'a 50 MB file with 100,000 rows', fileName: 'big.csv', ui: true,
    bytes: () => utf8('text,label\n' + Array.from({ length: 100_000 }, (_, i) => `"${`row ${i}, `.repeat(50).slice(0, 496)}",${['ham', 'spam', 'other'][i % 3]}`).join('\n')),
    error: null, warnings: [], check: { rows: 100_000, previewRows: 20, labels: [['ham', 33334], ['other', 33333], ['spam', 33333]] },
  },
  {
    id: 'csv-huge-cell', area: 'csv', describe: 'a 2,000,000-character cell', fileName: 'huge.csv',
    bytes: () => utf8(`text,label\n${'a'.repeat(2_000_000)},a\nshort,b\nfoo,a\nbar,b\n`), error: null, warnings: [],
    check: { rows: 4 },
  },
  {
    id: 'csv-repeated-header', area: 'csv', describe: 'the header row again inside the file (two exports pasted together)', fileName: 'pasted-twice.csv', ui: true,
    bytes: () => utf8('text,label\nhello there,ham\nwin a prize now,spam\ntext,label\nsee you soon,ham\nfree entry today,spam\n'),
    error: null, warnings: [], check: { rows: 4, columns: ['text', 'label'], labels: [['ham', 2], ['spam', 2]] },
    rejected: [{ line: 4, reason: 'This row repeats the header row (text, label), as where two files were pasted together; it was skipped.' }],
  },
  {
    id: 'csv-lookalike-labels', area: 'csv', describe: 'labels that look the same and are not: a zero-width space, full-width letters', fileName: 'lookalike.csv', ui: true,
    bytes: () => utf8('text,label\n' + ['yes', 'yes\u200b', '\uff59\uff45\uff53', 'no'].flatMap((l, i) => [`message ${2 * i},${l}`, `message ${2 * i + 1},${l}`]).join('\n')),
    error: null, check: { rows: 8 },
    warnings: ['Some labels look alike but are written differently ("yes" / "yes<U+200B>" / "\uff59\uff45\uff53"): they differ only in capitals, spaces, dashes, invisible characters or Unicode forms. '
      + 'They are treated as different classes; fix the file if they are the same.'],
  },
];

// ---- model folders and URLs ---------------------------------------------------------------

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'checkpoints');
export type Fixture = 'llama' | 'llama3-untied' | 'qwen2' | 'gpt2';

/** One of the tiny reference checkpoints (tests/fixtures/checkpoints), as the files of a folder. */
export function fixtureFiles(name: Fixture): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const f of readdirSync(path.join(FIXTURES, name)).sort()) {
    if (f !== 'reference.json') files.set(f, new Uint8Array(readFileSync(path.join(FIXTURES, name, f))));
  }
  return files;
}

export function fixtureDir(name: Fixture): string {
  return path.join(FIXTURES, name);
}

function withFile(name: Fixture, file: string, bytes: Uint8Array | null): Map<string, Uint8Array> {
  const files = fixtureFiles(name);
  if (bytes) files.set(file, bytes);
  else files.delete(file);
  return files;
}

function withConfig(name: Fixture, change: Record<string, unknown>): Map<string, Uint8Array> {
  const files = fixtureFiles(name);
  const config = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
  files.set('config.json', utf8(JSON.stringify({ ...config, ...change })));
  return files;
}

/** A safetensors file from a raw header and zero data bytes, exactly as given. */
function rawSafetensors(header: object | string, dataBytes: number, headerLength?: number): Uint8Array {
  const json = utf8(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.byteLength), true);
  out.set(json, 8);
  return out;
}

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;

/** A fixture's model.safetensors with its header changed by `edit` and the data bytes kept. */
function editedHeader(name: Fixture, edit: (header: Header) => void): Map<string, Uint8Array> {
  const files = fixtureFiles(name);
  const bytes = files.get('model.safetensors')!;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Header;
  edit(header);
  const json = utf8(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + bytes.byteLength - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.byteLength);
  files.set('model.safetensors', out);
  return files;
}

const LFS_POINTER = (size: number) => utf8(`version https://git-lfs.github.com/spec/v1\noid sha256:${'4d7a'.repeat(16)}\nsize ${size}\n`);

/** One HTTP answer of the test server (the test's local node server implements these). */
export interface Reply {
  status: number;
  statusText?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Send the headers and this many bytes of the body, then nothing more. */
  stallAfter?: number;
}

/** How the server answers one request; null: serve the folder's file (or 404). */
export type Serve = (request: { method: string; file: string; attempt: number }) => Reply | null;

const WEB_PAGE = '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in to continue</body></html>';

export interface ModelCase {
  id: string;
  area: 'model';
  describe: string;
  /** The folder the user picks (the page's "Local folder"), file name → bytes. */
  files?: () => Map<string, Uint8Array>;
  /** Or a folder URL: `path` on a local server that serves `folder` and answers as `serve` says. */
  url?: { path: string; folder?: Fixture; serve: Serve; options?: { stallTimeoutMs?: number; retries?: number; retryDelayMs?: number } };
  /** Requests the server must have seen, e.g. a retry: "GET model.safetensors" → 2. */
  attempts?: Record<string, number>;
  /** Open on a WebGPU adapter with these limits (a fake adapter: the check runs before any upload). */
  gpu?: { maxStorageBufferBindingSize: number; maxBufferSize: number };
  /** `{base}` in the message stands for the test server's origin, e.g. http://127.0.0.1:40123. */
  error: Expected;
  ui?: boolean;
}

const AGAIN = 'Download or copy the file again.';
const MISMATCH = 'The weights and config.json come from different models.';
const TOO_LARGE = 'Choose a smaller model, or the wasm backend, which has no such limit.';
const FOLDER = 'A model folder needs config.json, tokenizer.json and model.safetensors (Hugging Face layout).';

export const MODEL_CASES: ModelCase[] = [
  {
    id: 'model-no-config', area: 'model', describe: 'a folder without config.json', files: () => withFile('llama', 'config.json', null),
    error: { code: 'model', message: 'No config.json in the chosen files.', hint: FOLDER },
  },
  {
    id: 'model-config-not-json', area: 'model', describe: 'config.json that is not JSON',
    files: () => withFile('llama', 'config.json', utf8('{"model_type": "llama", "hidden_size": 32,')),
    error: { code: 'model', message: 'config.json from the chosen files is not valid JSON.', hint: 'Check that the file is complete and is the right one.' },
  },
  {
    id: 'model-no-tokenizer', area: 'model', describe: 'a folder without tokenizer.json', files: () => withFile('llama', 'tokenizer.json', null), ui: true,
    error: { code: 'tokenizer', message: 'No tokenizer.json in the chosen files.', hint: 'The studio needs the fast-tokenizer file tokenizer.json beside config.json.' },
  },
  {
    id: 'model-tokenizer-not-json', area: 'model', describe: 'tokenizer.json cut short',
    files: () => withFile('llama', 'tokenizer.json', fixtureFiles('llama').get('tokenizer.json')!.subarray(0, 500)),
    error: { code: 'model', message: 'tokenizer.json from the chosen files is not valid JSON.', hint: 'Check that the file is complete and is the right one.' },
  },
  {
    id: 'model-tokenizer-no-model', area: 'model', describe: 'tokenizer.json without a model section',
    files: () => withFile('llama', 'tokenizer.json', utf8('{"version": "1.0", "added_tokens": []}')),
    error: { code: 'tokenizer', message: 'tokenizer.json from the chosen files has no "model" section; it is not a Hugging Face tokenizer file.' },
  },
  {
    id: 'model-tokenizer-other-model', area: 'model', describe: 'a tokenizer with more tokens than the model has rows',
    files: () => withFile('llama', 'tokenizer.json', fixtureFiles('gpt2').get('tokenizer.json')!),
    error: { code: 'tokenizer', message: 'The tokenizer has 72 tokens but the model only 64.', hint: 'tokenizer.json and the weights come from different models.' },
  },
  {
    id: 'model-pytorch-only', area: 'model', describe: 'PyTorch weights (pytorch_model.bin) and no safetensors', ui: true,
    files: () => {
      const files = withFile('llama', 'model.safetensors', null);
      files.set('pytorch_model.bin', new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]));
      return files;
    },
    error: {
      code: 'model', message: 'No model.safetensors (or model.safetensors.index.json) in the chosen files.',
      hint: 'The studio reads safetensors weights; convert .bin/.pt checkpoints with transformers\' save_pretrained(safe_serialization=True).',
    },
  },
  {
    id: 'model-missing-shard', area: 'model', describe: 'a shard listed in the index that is not there',
    files: () => withFile('llama3-untied', 'model-00002-of-00002.safetensors', null),
    error: { code: 'model', message: 'model-00002-of-00002.safetensors is not among the chosen files.' },
  },
  {
    id: 'model-safetensors-tiny', area: 'model', describe: 'model.safetensors shorter than its 8-byte length field',
    files: () => withFile('llama', 'model.safetensors', new Uint8Array(5)),
    error: { code: 'safetensors', message: 'model.safetensors is truncated: it has 5 bytes, fewer than the 8-byte header length.', hint: AGAIN },
  },
  {
    id: 'model-header-beyond-file', area: 'model', describe: 'a header length beyond the end of the file (cut off inside the header)', ui: true,
    files: () => withFile('llama', 'model.safetensors', fixtureFiles('llama').get('model.safetensors')!.subarray(0, 200)),
    error: { code: 'safetensors', message: 'model.safetensors is truncated or corrupt: its header claims 2008 bytes but only 192 follow.', hint: AGAIN },
  },
  {
    id: 'model-header-over-limit', area: 'model', describe: 'a header length over the 100 MB limit',
    files: () => withFile('llama', 'model.safetensors', rawSafetensors({}, 100_000_100, 100_000_001)),
    error: { code: 'safetensors', message: 'model.safetensors has a 100000001-byte header, over the 100 MB limit.' },
  },
  {
    id: 'model-header-not-json', area: 'model', describe: 'a header that is not JSON',
    files: () => withFile('llama', 'model.safetensors', rawSafetensors('{"model.embed_tokens.weight": {"dtype": "F32", "shape": [64, 32], "data_offsets": [0, 8192]}, oops', 8192)),
    error: { code: 'safetensors', message: 'model.safetensors has a header that is not valid JSON; it is not a safetensors file or it is corrupt.' },
  },
  {
    id: 'model-not-safetensors', area: 'model', describe: 'an image saved as model.safetensors', files: () => withFile('llama', 'model.safetensors', PNG()),
    error: { code: 'safetensors', message: 'model.safetensors is not a safetensors file: it does not start with a safetensors header.' },
  },
  {
    id: 'model-lfs-pointer', area: 'model', describe: 'a Git LFS pointer instead of the weights (a clone without git-lfs)', ui: true,
    files: () => withFile('llama', 'model.safetensors', LFS_POINTER(60000)),
    error: {
      code: 'safetensors', message: 'model.safetensors is a Git LFS pointer (a small text file that stands for the real one), not the file itself.',
      hint: 'Fetch the real file: run "git lfs pull" in the cloned repository, or download the file from the model\'s page.',
    },
  },
  {
    id: 'model-truncated-data', area: 'model', describe: 'model.safetensors cut off inside its tensor data',
    files: () => {
      const full = fixtureFiles('llama').get('model.safetensors')!;
      return withFile('llama', 'model.safetensors', full.subarray(0, full.byteLength - 1000));
    },
    error: {
      code: 'safetensors',
      message: 'model.safetensors: tensor "model.layers.1.self_attn.v_proj.weight" has data_offsets [55808, 57856] outside the 56984 data bytes; the file is truncated or corrupt.',
      hint: AGAIN,
    },
  },
  {
    id: 'model-offsets-out-of-range', area: 'model', describe: 'data_offsets past the end of the data',
    files: () => editedHeader('llama', (h) => (h['model.norm.weight'].data_offsets = [1_000_000, 1_000_128])),
    error: {
      code: 'safetensors',
      message: 'model.safetensors: tensor "model.norm.weight" has data_offsets [1000000, 1000128] outside the 57984 data bytes; the file is truncated or corrupt.',
      hint: AGAIN,
    },
  },
  {
    id: 'model-offsets-reversed', area: 'model', describe: 'data_offsets that end before they begin',
    files: () => editedHeader('llama', (h) => (h['model.norm.weight'].data_offsets = [57984, 57856])),
    error: {
      code: 'safetensors',
      message: 'model.safetensors: tensor "model.norm.weight" has data_offsets [57984, 57856] that end before they begin; the file is corrupt.',
      hint: AGAIN,
    },
  },
  {
    id: 'model-offsets-overlap', area: 'model', describe: 'two tensors whose data overlap',
    files: () => editedHeader('llama', (h) => (h['model.layers.1.self_attn.q_proj.weight'].data_offsets = [...h['model.layers.0.self_attn.q_proj.weight'].data_offsets])),
    error: {
      code: 'safetensors',
      message: 'model.safetensors: tensors "model.layers.0.self_attn.q_proj.weight" and "model.layers.1.self_attn.q_proj.weight" overlap in the file; it is corrupt.',
    },
  },
  {
    id: 'model-bytes-unlike-shape', area: 'model', describe: 'a tensor whose bytes do not match its shape',
    files: () => withFile('llama', 'model.safetensors',
      rawSafetensors({ 'model.embed_tokens.weight': { dtype: 'F32', shape: [64, 32], data_offsets: [0, 8000] } }, 8000)),
    error: { code: 'safetensors', message: 'model.safetensors: tensor "model.embed_tokens.weight" holds 8000 bytes but its shape [64, 32] of F32 needs 8192.' },
  },
  {
    id: 'model-dtype-fp8', area: 'model', describe: 'weights in a dtype the studio does not read (FP8)',
    files: () => editedHeader('llama', (h) => {
      const t = h['model.layers.0.mlp.down_proj.weight'];
      t.dtype = 'F8_E4M3';
      t.data_offsets = [t.data_offsets[0], t.data_offsets[0] + 32 * 32];
    }),
    error: {
      code: 'safetensors', message: 'model.safetensors: tensor "model.layers.0.mlp.down_proj.weight" has dtype "F8_E4M3", which the studio does not read.',
      hint: 'Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL.',
    },
  },
  {
    id: 'model-missing-tensor', area: 'model', describe: 'weights without a tensor the architecture needs',
    files: () => editedHeader('llama', (h) => delete h['model.layers.1.mlp.down_proj.weight']),
    error: {
      code: 'model', message: 'The checkpoint has no tensor "model.layers.1.mlp.down_proj.weight", which this architecture needs.',
      hint: 'The weights are incomplete or belong to another architecture.',
    },
  },
  {
    id: 'model-shape-vs-config', area: 'model', describe: 'weights shaped unlike config.json (Llama MLP width)', files: () => withConfig('llama', { intermediate_size: 40 }),
    error: { code: 'model', message: 'The checkpoint\'s "model.layers.0.mlp.gate_proj.weight" has shape [32, 32], but config.json implies [40, 32].', hint: MISMATCH },
  },
  {
    id: 'model-shape-vs-config-gpt2', area: 'model', describe: 'weights shaped unlike config.json (GPT-2 Conv1D, stored [in, out])',
    files: () => withConfig('gpt2', { n_inner: 64 }),
    error: { code: 'model', message: 'The checkpoint\'s "transformer.h.0.mlp.c_fc.weight" has shape [32, 32], but config.json implies [32, 64].', hint: MISMATCH },
  },
  {
    id: 'model-vocab-vs-config', area: 'model', describe: 'a vocabulary larger in config.json than in the weights', files: () => withConfig('qwen2', { vocab_size: 100 }),
    error: { code: 'model', message: 'The checkpoint\'s "model.embed_tokens.weight" has shape [64, 32], but config.json implies [100, 32].', hint: MISMATCH },
  },
  {
    id: 'model-architecture', area: 'model', describe: 'an architecture the studio does not run', ui: true,
    files: () => withConfig('llama', { model_type: 'mistral', architectures: ['MistralForCausalLM'] }),
    error: { code: 'model', message: 'This model\'s architecture ("mistral") is not supported.', hint: 'The studio runs these model_type values: llama, qwen2, gpt2.' },
  },
  {
    id: 'model-binding-limit', area: 'model', describe: 'a tensor larger than the WebGPU adapter\'s binding limit',
    files: () => fixtureFiles('llama'), gpu: { maxStorageBufferBindingSize: 1024, maxBufferSize: 1 << 20 },
    error: {
      code: 'model',
      message: 'The model is too large for this GPU: its tensor "model.embed_tokens.weight" ([64, 32], float32) needs 8.0 KiB, '
        + 'over the adapter\'s 1.0 KiB limit for one buffer (maxStorageBufferBindingSize); the whole model needs 22.4 KiB.',
      hint: TOO_LARGE,
    },
  },
  {
    id: 'model-buffer-limit', area: 'model', describe: 'a tensor larger than the adapter\'s maxBufferSize',
    files: () => fixtureFiles('gpt2'), gpu: { maxStorageBufferBindingSize: 1 << 20, maxBufferSize: 1024 },
    error: {
      code: 'model',
      message: 'The model is too large for this GPU: its tensor "transformer.wte.weight" ([72, 32], float32) needs 9.0 KiB, '
        + 'over the adapter\'s 1.0 KiB limit for one buffer (maxBufferSize); the whole model needs 26.4 KiB.',
      hint: TOO_LARGE,
    },
  },
  {
    id: 'model-url-404', area: 'model', describe: 'a URL where nothing is (every file 404)',
    url: { path: '/models/missing/', serve: () => ({ status: 404, statusText: 'Not Found' }) },
    error: { code: 'model', message: 'No config.json in {base}/models/missing/.', hint: FOLDER },
  },
  {
    id: 'model-url-404-weights', area: 'model', describe: 'a URL whose weights answer 404 (listed but gone)',
    url: {
      path: '/models/tiny/', folder: 'llama',
      serve: ({ method, file }) => (method === 'GET' && file === 'model.safetensors' ? { status: 404, statusText: 'Not Found' } : null),
    },
    error: {
      code: 'network', message: '{base}/models/tiny/model.safetensors answered HTTP 404 Not Found.',
      hint: 'The file model.safetensors is not at that address.',
    },
  },
  {
    id: 'model-url-html', area: 'model', ui: true,
    describe: 'a URL that answers every file with a web page (a login page, a single-page app such as the studio\'s own server)',
    url: { path: '/no-such-model/', serve: () => ({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: WEB_PAGE }) },
    error: {
      code: 'network', message: '{base}/no-such-model/config.json returned a web page instead of the file config.json.',
      hint: 'Check the address: it should point at the folder that holds config.json.',
    },
  },
  {
    id: 'model-url-html-weights', area: 'model', describe: 'weights that arrive as a web page (claimed to be binary)',
    url: {
      path: '/models/tiny/', folder: 'llama',
      serve: ({ method, file }) => (method === 'GET' && file === 'model.safetensors'
        ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: WEB_PAGE } : null),
    },
    error: {
      code: 'network', message: '{base}/models/tiny/model.safetensors returned a web page instead of the file model.safetensors.',
      hint: 'Check the address: it should point at the folder that holds config.json.',
    },
  },
  {
    id: 'model-url-stall', area: 'model', describe: 'a download that stalls, retried, then given up with a message',
    url: {
      path: '/models/tiny/', folder: 'llama', options: { stallTimeoutMs: 200, retries: 1, retryDelayMs: 10 },
      // The file's own first bytes (the weights are read as they arrive, so zeros would be refused as a bad header first), then nothing.
      serve: ({ method, file }) => {
        if (method !== 'GET' || file !== 'model.safetensors') return null;
        const body = fixtureFiles('llama').get(file)!;
        return { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) }, body, stallAfter: 100 };
      },
    },
    attempts: { 'GET model.safetensors': 2 },
    error: {
      code: 'network',
      message: 'Could not download {base}/models/tiny/model.safetensors after 2 attempts: the download of model.safetensors stalled: no data for 0.2 s.',
      hint: 'Check the connection and the address, then try again.',
    },
  },
  {
    id: 'model-url-503', area: 'model', describe: 'a server that stays busy (503), retried, then given up',
    url: {
      path: '/models/tiny/', folder: 'llama', options: { stallTimeoutMs: 2000, retries: 2, retryDelayMs: 10 },
      serve: ({ method, file }) => (method === 'GET' && file === 'tokenizer.json' ? { status: 503, statusText: 'Service Unavailable' } : null),
    },
    attempts: { 'GET tokenizer.json': 3 },
    error: {
      code: 'network', message: 'Could not download {base}/models/tiny/tokenizer.json after 3 attempts: HTTP 503 Service Unavailable.',
      hint: 'Check the connection and the address, then try again.',
    },
  },
];

// ---- adapters and checkpoints ---------------------------------------------------------------

/**
 * What the adapter and checkpoint cases start from: a short prompt-tuning run on the default
 * model (stories260K) over SETTINGS_CSV, split as PAGE_SPLIT, made by the test harness.
 */
export interface Trained {
  /** The studio's adapter download (zip) and the same files unzipped, by name. */
  zip: Uint8Array;
  files: Map<string, Uint8Array>;
  /** The run's resumable checkpoint. */
  checkpoint: Uint8Array;
  /** The loaded model's fingerprint, and another model's (OTHER_MODEL). */
  fingerprint: ModelFingerprint;
  otherFingerprint: ModelFingerprint;
}

/** The settings of that run. */
export const TRAINED_RUN = { numVirtualTokens: 3, batchSize: 4, maxLength: 24, steps: 2, evalEvery: 2, checkpointEvery: 2, projectEvery: 100, seed: 1 };

/**
 * A stand-in for that run written by the format code alone (no training): what the page's
 * adapter cases start from, where no engine runs in the test's own process. Its checkpoint
 * and fingerprint are placeholders, so only cases that do not depend on them use it.
 */
export function syntheticTrained(): Trained {
  const data = Float32Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i) / 10);
  const input: AdapterBundleInput = {
    exported: { peftType: 'PROMPT_TUNING', tensors: { prompt_embeddings: { shape: [3, 64], data } }, config: {} },
    common: { baseModel: 'stories260K', model: { hiddenSize: 64, numLayers: 5, numHeads: 8, numKeyValueHeads: 4, headDim: 8 }, numVirtualTokens: 3, init: { kind: 'labels' } },
    studio: {
      method: 'prompt', template: '{text}\nLabel:', verbalizer: { ham: ' ham', spam: ' spam' }, labels: ['ham', 'spam'], metrics: { step: 2 },
      trainingConfig: { ...validateTrainConfig(TRAINED_RUN) }, modelFingerprint: { sha256: '0'.repeat(64), label: 'a placeholder' }, createdAt: '2025-01-02T03:04:05.000Z',
    },
  };
  const fingerprint = { sha256: '0'.repeat(64), label: 'a placeholder' };
  return { zip: writeAdapterZip(input), files: adapterBundleFiles(input), checkpoint: new Uint8Array(8), fingerprint, otherFingerprint: fingerprint };
}

/** Another model for checkpoints to come from: the tiny Llama of tests/fixtures, named as a hub model would be. */
export const OTHER_MODEL = () => withConfig('llama', { _name_or_path: 'test-org/tiny-llama' });

export interface AdapterCase {
  id: string;
  area: 'adapter';
  describe: string;
  /** What the user loads: a zip, or a folder's files (paths inside the folder). */
  input: (t: Trained) => { fileName: string; zip?: Uint8Array; files?: Map<string, Uint8Array> };
  /** Loaded before any CSV (no labels to fall back on). */
  noData?: boolean;
  /** The error the user reads, or null when the adapter loads. */
  error: Expected | null;
  /** Exactly the warnings the import gives, when it loads. */
  warnings?: string[];
  /** What must be true of the imported adapter. */
  info?: Partial<AdapterInfo>;
  ui?: boolean;
}

const json = (x: unknown) => utf8(JSON.stringify(x, null, 2));
const decodeJson = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;

/** A plain PEFT adapter folder (as Python's save_pretrained writes it) from the run's config, changed. */
function peftFolder(t: Trained, config: Record<string, unknown>, tensors: Record<string, TensorToWrite>, folder = 'my-adapter'): Map<string, Uint8Array> {
  const base = decodeJson(t.files.get('adapter_config.json')!);
  return new Map([
    [`${folder}/adapter_config.json`, json({ ...base, ...config })],
    [`${folder}/adapter_model.safetensors`, writeSafetensors(tensors, { format: 'pt' })],
  ]);
}

const f32 = (shape: number[]): TensorToWrite => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) });

function zipFiles(files: Map<string, Uint8Array>): Uint8Array {
  return zipSync(Object.fromEntries([...files].map(([n, b]) => [n, [b, { level: 0 }]])));
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The run's adapter zip with its studio.json changed (`null` values delete the field). */
function withStudio(t: Trained, change: Record<string, unknown>): Uint8Array {
  const studio = decodeJson(t.files.get('studio.json')!);
  for (const [k, v] of Object.entries(change)) {
    if (v === null) delete studio[k];
    else studio[k] = v;
  }
  return zipFiles(new Map([...t.files, ['studio.json', json(studio)]]));
}

const withTrainingConfig = (t: Trained, change: Record<string, unknown>) =>
  withStudio(t, { trainingConfig: { ...(decodeJson(t.files.get('studio.json')!).trainingConfig as object), ...change } });

/** A safetensors header for one F32 tensor [rows, 64] (the default model's width), as PEFT writes it. */
function promptHeader(rows: number): Uint8Array {
  const header = utf8(JSON.stringify({ __metadata__: { format: 'pt' }, prompt_embeddings: { dtype: 'F32', shape: [rows, 64], data_offsets: [0, rows * 64 * 4] } }));
  const out = new Uint8Array(8 + header.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  return out;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** What adapter_model.safetensors may unpack to for the default model (engine/runFiles.ts bundleLimits): 20.9 MiB. */
const WEIGHTS_LIMIT = '20.9 MiB';
const NOT_OURS = 'It is not a file the studio or PEFT wrote; load the adapter\'s own zip or folder.';
const FIX_OR_REMOVE = 'Fix that field, or remove studio.json to load the adapter on its own (its labels then come from your data).';
const DIVERGED = 'The run that saved it diverged: export the prompt again from a step before its loss became NaN, or train again with a lower learning rate.';

const RETRAIN = 'Load the model the adapter was trained for.';
const DAMAGED_ZIP: Expected = {
  code: 'adapter', message: 'The adapter file is not a readable zip archive: it is damaged or incomplete.',
  hint: 'Download the adapter again, or unzip it yourself and load the folder.',
};

export const ADAPTER_CASES: AdapterCase[] = [
  {
    id: 'adapter-token-dim', area: 'adapter', describe: 'a prompt for a wider model (token_dim 128)',
    input: (t) => ({ fileName: 'wide', files: peftFolder(t, { token_dim: 128 }, { prompt_embeddings: f32([3, 128]) }) }),
    error: { code: 'adapter', message: 'The adapter\'s token_dim is 128, but this model\'s embeddings have 64 dimensions (hidden_size).', hint: RETRAIN },
  },
  {
    id: 'adapter-lora', area: 'adapter', describe: 'a LoRA adapter', input: (t) => ({
      fileName: 'lora', files: peftFolder(t, { peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'], num_virtual_tokens: null, token_dim: null }, {
        'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': f32([8, 64]),
        'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight': f32([64, 8]),
      }),
    }),
    error: {
      code: 'adapter', message: 'This is a LORA adapter; the studio loads prompt-learning adapters only: PROMPT_TUNING, P_TUNING, PREFIX_TUNING, MULTITASK_PROMPT_TUNING.',
      hint: 'Adapters that change the model\'s weights (LoRA and the like) run in Python with PEFT.',
    },
  },
  {
    id: 'adapter-task-type', area: 'adapter', describe: 'a prompt for sequence classification (task_type SEQ_CLS)',
    input: (t) => ({ fileName: 'seqcls', files: peftFolder(t, { task_type: 'SEQ_CLS' }, { prompt_embeddings: f32([3, 64]) }) }),
    error: {
      code: 'adapter', message: 'The adapter\'s task_type is "SEQ_CLS", but the studio runs causal language models only (task_type "CAUSAL_LM").',
      hint: 'Train the adapter with task_type="CAUSAL_LM".',
    },
  },
  {
    id: 'adapter-prefix-layers', area: 'adapter', describe: 'a prefix for a model with another number of layers',
    input: (t) => ({
      fileName: 'prefix', files: peftFolder(t, { peft_type: 'PREFIX_TUNING', token_dim: 32, num_layers: 2, num_attention_heads: 4, prefix_projection: false },
        { prompt_embeddings: f32([3, 2 * 2 * 32]) }),
    }),
    error: { code: 'adapter', message: 'The adapter was made for a model with 2 layers (num_layers), but this model has 5.', hint: RETRAIN },
  },
  {
    id: 'adapter-shape-vs-config', area: 'adapter', describe: 'weights that disagree with adapter_config.json',
    input: (t) => ({ fileName: 'mixed', files: peftFolder(t, { num_virtual_tokens: 5 }, { prompt_embeddings: f32([3, 64]) }) }),
    error: {
      code: 'adapter', message: 'The adapter\'s "prompt_embeddings" has shape [3, 64], but its adapter_config.json implies [5, 64].',
      hint: 'The adapter\'s files do not belong together.',
    },
  },
  {
    id: 'adapter-int-tensor', area: 'adapter', describe: 'integer prompt weights',
    input: (t) => ({ fileName: 'ints', files: peftFolder(t, {}, { prompt_embeddings: { dtype: 'I32', shape: [3, 64], data: new Int32Array(192) } }) }),
    error: { code: 'adapter', message: 'adapter_model.safetensors: tensor "prompt_embeddings" is I32; adapter tensors must be floating point (F32, F16 or BF16).' },
  },
  {
    id: 'adapter-truncated-zip', area: 'adapter', describe: 'a zip cut off half-way (an interrupted download)',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: t.zip.subarray(0, Math.floor(t.zip.byteLength / 2)) }),
    error: DAMAGED_ZIP,
  },
  {
    id: 'adapter-corrupt-zip', area: 'adapter', describe: 'a zip with a flipped byte in the weights (caught by the CRC)',
    input: (t) => {
      const zip = t.zip.slice();
      const weights = t.files.get('adapter_model.safetensors')!;
      const at = indexOf(zip, weights.subarray(0, 64));
      if (at < 0) throw new Error('the weights are not stored uncompressed in the zip');
      zip[at + weights.byteLength - 3] ^= 0x40;
      return { fileName: 'data-prompt-step2.zip', zip };
    },
    error: DAMAGED_ZIP,
  },
  {
    id: 'adapter-not-zip', area: 'adapter', describe: 'a file that is not a zip at all (an image renamed .zip)',
    input: () => ({ fileName: 'adapter.zip', zip: PNG() }),
    error: {
      code: 'adapter', message: 'The adapter file is not a zip archive.',
      hint: 'Load the zip the studio exported, or the folder holding adapter_config.json and adapter_model.safetensors.',
    },
  },
  {
    id: 'adapter-no-config', area: 'adapter', describe: 'a zip without adapter_config.json',
    input: (t) => ({ fileName: 'weights.zip', zip: zipFiles(new Map([['adapter_model.safetensors', t.files.get('adapter_model.safetensors')!]])) }),
    error: {
      code: 'adapter', message: 'The adapter has no adapter_config.json.',
      hint: 'A PEFT adapter folder holds adapter_config.json and adapter_model.safetensors, as save_pretrained writes them.',
    },
  },
  {
    id: 'adapter-pickle', area: 'adapter', describe: 'an adapter saved as a PyTorch pickle (adapter_model.bin)',
    input: (t) => ({
      fileName: 'old-adapter', files: new Map([
        ['old-adapter/adapter_config.json', t.files.get('adapter_config.json')!],
        ['old-adapter/adapter_model.bin', new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc])],
      ]),
    }),
    error: {
      code: 'adapter', message: 'The adapter\'s weights are in adapter_model.bin (a PyTorch pickle), which the studio does not read.',
      hint: 'Save it again with save_pretrained(..., safe_serialization=True) to get adapter_model.safetensors.',
    },
  },
  {
    id: 'adapter-lfs-pointer', area: 'adapter', describe: 'a Git LFS pointer instead of the adapter weights',
    input: (t) => ({
      fileName: 'cloned', files: new Map([
        ['cloned/adapter_config.json', t.files.get('adapter_config.json')!],
        ['cloned/adapter_model.safetensors', LFS_POINTER(880)],
      ]),
    }),
    error: {
      code: 'adapter', message: 'adapter_model.safetensors is a Git LFS pointer (a small text file that stands for the real one), not the file itself.',
      hint: 'Fetch the real file: run "git lfs pull" in the cloned repository, or download the file from the model\'s page.',
    },
  },
  {
    id: 'adapter-two-adapters', area: 'adapter', describe: 'a folder holding two adapters side by side',
    input: (t) => ({ fileName: 'adapters', files: new Map([...peftFolder(t, {}, { prompt_embeddings: f32([3, 64]) }, 'a'), ...peftFolder(t, {}, { prompt_embeddings: f32([3, 64]) }, 'b')]) }),
    error: { code: 'adapter', message: 'There are several adapters here (a/, b/).', hint: 'Load one adapter folder at a time.' },
  },
  {
    id: 'adapter-studio-json-broken', area: 'adapter', describe: 'a damaged studio.json',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: zipFiles(new Map([...t.files, ['studio.json', utf8('{"format": "prompt-tuning-studio/adapter", "labels": [')]])) }),
    error: { code: 'adapter', message: 'studio.json is not valid JSON.', hint: 'The file is damaged; the adapter itself may still load without it.' },
  },
  {
    id: 'adapter-no-labels', area: 'adapter', describe: 'a plain PEFT adapter loaded before any data (no labels to predict)', noData: true,
    input: (t) => ({ fileName: 'my-adapter', files: peftFolder(t, {}, { prompt_embeddings: f32([3, 64]) }) }),
    error: {
      code: 'adapter', message: 'my-adapter has no studio.json, so the studio does not know which labels it predicts.',
      hint: 'Load the CSV it was trained for first (Data step); its labels and your verbalizer are used.',
    },
  },
  // Unbounded memory from small files: each refused after reading the zip's directory or a few kilobytes, never unpacked whole.
  {
    id: 'adapter-zip-bomb', area: 'adapter', describe: 'a 1 MiB zip whose weights unpack to 1 GiB of zeros (the directory says so)', ui: true,
    input: (t) => ({
      fileName: 'bomb.zip',
      zip: rawZip([stored('adapter_config.json', t.files.get('adapter_config.json')!), zeros('adapter_model.safetensors', promptHeader(3), GiB)]),
    }),
    error: {
      code: 'adapter', message: `The adapter zip's adapter_model.safetensors unpacks to 1.0 GiB, more than the ${WEIGHTS_LIMIT} an adapter for this model can hold.`, hint: NOT_OURS,
    },
  },
  {
    id: 'adapter-zip-bomb-lying', area: 'adapter', describe: 'a zip whose directory claims the weights are small while they unpack to 1 GiB',
    input: (t) => {
      const header = promptHeader(3);
      return {
        fileName: 'liar.zip',
        zip: rawZip([stored('adapter_config.json', t.files.get('adapter_config.json')!), zeros('adapter_model.safetensors', header, GiB, header.length + 768)]),
      };
    },
    error: {
      code: 'adapter',
      message: 'The adapter zip\'s adapter_model.safetensors unpacks to more than the 882 bytes its directory declares; the archive is damaged or crafted to exhaust memory, so it was not unpacked further.',
      hint: DAMAGED_ZIP.hint,
    },
  },
  {
    id: 'adapter-zip-size-vs-header', area: 'adapter', describe: 'weights whose safetensors header describes less than the zip says they hold',
    input: (t) => ({
      fileName: 'padded.zip',
      zip: rawZip([stored('adapter_config.json', t.files.get('adapter_config.json')!), zeros('adapter_model.safetensors', promptHeader(3), 16 * MiB, 16 * MiB)]),
    }),
    error: {
      code: 'adapter',
      message: 'The adapter zip\'s adapter_model.safetensors is 16.0 MiB in the archive\'s directory, but its own header describes 882 bytes; the archive is damaged or was not written by the studio or PEFT.',
      hint: DAMAGED_ZIP.hint,
    },
  },
  {
    id: 'adapter-zip-readme-bomb', area: 'adapter', describe: 'a README.md that unpacks to 1 GiB',
    input: (t) => ({ fileName: 'readme.zip', zip: rawZip([...[...t.files].map(([n, b]) => stored(n, b)).filter((e) => e.name !== 'README.md'), zeros('README.md', utf8('# hello\n'), GiB)]) }),
    error: { code: 'adapter', message: 'The adapter zip\'s README.md unpacks to 1.0 GiB, more than the 16.0 MiB a README.md can reasonably hold.', hint: NOT_OURS },
  },
  {
    id: 'adapter-zip-checkpoint-bomb', area: 'adapter', describe: 'a checkpoint in the zip that claims 8 MiB and unpacks to 1 GiB',
    input: (t) => ({ fileName: 'ckpt.zip', zip: rawZip([...[...t.files].map(([n, b]) => stored(n, b)), zeros('checkpoint.safetensors', new Uint8Array(0), GiB, 8 * MiB)]) }),
    error: {
      code: 'adapter',
      message: 'The adapter zip\'s checkpoint.safetensors unpacks to more than the 8.0 MiB its directory declares; the archive is damaged or crafted to exhaust memory, so it was not unpacked further.',
      hint: DAMAGED_ZIP.hint,
    },
  },
  {
    id: 'adapter-10000-folders', area: 'adapter', describe: 'a zip of 10,000 folders, each with an adapter_config.json (the message stays one short line)',
    input: (t) => ({
      fileName: 'many.zip',
      zip: rawZip(Array.from({ length: 10_000 }, (_, i) => stored(`a${String(i).padStart(5, '0')}/adapter_config.json`, t.files.get('adapter_config.json')!))),
    }),
    error: { code: 'adapter', message: 'There are several adapters here (a00000/, a00001/, a00002/, a00003/, a00004/, and 9,995 more).', hint: 'Load one adapter folder at a time.' },
  },
  // NaN and infinity are refused, naming the tensor and the count.
  {
    id: 'adapter-nan', area: 'adapter', describe: 'a prompt holding NaN and infinity', ui: true,
    input: (t) => {
      const data = new Float32Array(3 * 64).fill(0.01);
      data[5] = Number.NaN;
      data[70] = Number.POSITIVE_INFINITY;
      data[191] = Number.NaN;
      return { fileName: 'diverged', files: peftFolder(t, {}, { prompt_embeddings: { dtype: 'F32', shape: [3, 64], data } }) };
    },
    error: { code: 'adapter', message: 'adapter_model.safetensors: tensor "prompt_embeddings" holds 3 of 192 values that are not finite numbers (NaN or infinity).', hint: DIVERGED },
  },
  // studio.json: one schema, each field's problem by name.
  {
    id: 'adapter-studio-no-labels', area: 'adapter', describe: 'studio.json with "labels": []', ui: true,
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withStudio(t, { labels: [] }) }),
    error: { code: 'adapter', message: 'studio.json: "labels" lists no labels; a prompt classifies among at least two.', hint: FIX_OR_REMOVE },
  },
  {
    id: 'adapter-studio-labels-text', area: 'adapter', describe: 'studio.json whose labels are one string',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withStudio(t, { labels: 'ham,spam' }) }),
    error: { code: 'adapter', message: 'studio.json: "labels" is "ham,spam", not a list of label names.', hint: FIX_OR_REMOVE },
  },
  {
    id: 'adapter-studio-verbalizer', area: 'adapter', describe: 'studio.json whose verbalizer misses a label',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withStudio(t, { verbalizer: { ham: ' ham' } }) }),
    error: { code: 'adapter', message: 'studio.json: "verbalizer" has no text for the label "spam".', hint: FIX_OR_REMOVE },
  },
  {
    id: 'adapter-studio-template', area: 'adapter', describe: 'studio.json whose template has no {text}',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withStudio(t, { template: 7 }) }),
    error: { code: 'adapter', message: 'studio.json: "template" is 7, not text.', hint: FIX_OR_REMOVE },
  },
  {
    id: 'adapter-studio-task-labels', area: 'adapter', describe: 'studio.json with per-task labels but no tasks, one of them unknown',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withStudio(t, { taskLabels: [['ham', 'eggs']] }) }),
    error: { code: 'adapter', message: 'studio.json: "taskLabels" is [["ham","eggs"]], not one list of the prompt\'s labels per task in "tasks".', hint: FIX_OR_REMOVE },
  },
  {
    id: 'adapter-studio-method', area: 'adapter', describe: 'studio.json whose method is not what adapter_config.json\'s peft_type says',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withStudio(t, { method: 'prefix' }) }),
    error: {
      code: 'adapter', message: 'studio.json says the method is prefix (exported as PREFIX_TUNING), but adapter_config.json\'s peft_type is PROMPT_TUNING.',
      hint: 'The adapter\'s files do not belong together: load the folder or zip as the studio exported it.',
    },
  },
  {
    id: 'adapter-studio-max-length', area: 'adapter', describe: 'studio.json with a max length of 1e9 (it changes what the prompt predicts)',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withTrainingConfig(t, { maxLength: 1e9 }) }),
    error: { code: 'adapter', message: 'studio.json: trainingConfig.maxLength: Max length must be between 4 and 1000000, got 1000000000.', hint: FIX_OR_REMOVE },
  },
  {
    id: 'adapter-studio-optimizer', area: 'adapter', describe: 'studio.json with an unknown optimizer (kept for the record only): loads, and says so',
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withTrainingConfig(t, { optimizer: 'lion', template: '{text}\nLabel:' }) }),
    error: null, info: { labels: ['ham', 'spam'], template: '{text}\nLabel:' },
    warnings: ['studio.json: trainingConfig.optimizer: Unknown optimizer "lion". That setting is shown with the studio\'s default; the predictions do not depend on it.'],
  },
  {
    id: 'adapter-studio-fingerprint', area: 'adapter', describe: 'studio.json with an unreadable model fingerprint (never "trained on undefined")', ui: true,
    input: (t) => ({ fileName: 'data-prompt-step2.zip', zip: withStudio(t, { modelFingerprint: { label: 42 } }) }),
    error: null, info: { trainedOn: null, fingerprintMatches: null },
    warnings: ['studio.json: "modelFingerprint" is missing or unreadable, so the studio cannot check which model the prompt was trained on.'],
  },
];

export interface CheckpointCase {
  id: string;
  area: 'checkpoint';
  describe: string;
  /** The file handed to "resume from". */
  bytes: (t: Trained) => Uint8Array;
  /** The data loaded when resuming, when not SETTINGS_CSV split as PAGE_SPLIT. */
  data?: { csv?: string; validationFraction?: number };
  error: Expected;
  ui?: boolean;
}

export const CHECKPOINT_CASES: CheckpointCase[] = [
  {
    id: 'checkpoint-other-model', area: 'checkpoint', describe: 'a checkpoint of another model (fingerprint mismatch)',
    bytes: (t) => writeCheckpoint({ ...readCheckpoint(t.checkpoint), fingerprint: t.otherFingerprint }),
    error: {
      code: 'checkpoint',
      message: 'This checkpoint was trained on the model test-org/tiny-llama (llama, 2 layers, d=32, F32+I8 weights) [9fac9d89a221], '
        + 'but the loaded model is karpathy/tinyllamas/stories260K (llama, 5 layers, d=64, F32+I8 weights) [79dad9b47288].',
      hint: 'Load the model the run was trained on, or start a new run.',
    },
  },
  {
    id: 'checkpoint-other-split', area: 'checkpoint', describe: 'a checkpoint for a different split of the data',
    bytes: (t) => t.checkpoint, data: { validationFraction: 0.5 },
    error: {
      code: 'checkpoint', message: 'The checkpoint was trained on a different split of the data (16 training / 4 validation examples; now 10 / 10).',
      hint: 'Load the same CSV with the same column mapping, validation fraction and split seed.',
    },
  },
  {
    id: 'checkpoint-other-labels', area: 'checkpoint', describe: 'a checkpoint for other data (other labels)',
    bytes: (t) => t.checkpoint, data: { csv: 'text,label\n' + rows(20, (i) => (i % 2 ? 'positive' : 'negative')) },
    error: {
      code: 'checkpoint', message: 'The checkpoint was trained on the labels ham, spam, but the loaded data has negative, positive.',
      hint: 'Load the CSV the run was trained on, with the same column mapping.',
    },
  },
  {
    id: 'checkpoint-adapter-weights', area: 'checkpoint', describe: 'adapter_model.safetensors handed over as a checkpoint',
    bytes: (t) => t.files.get('adapter_model.safetensors')!,
    error: { code: 'checkpoint', message: 'This file is not a Prompt Tuning Studio checkpoint.', hint: 'Load a checkpoint the studio saved.' },
  },
  {
    id: 'checkpoint-adapter-zip', area: 'checkpoint', describe: 'the adapter download (zip) handed over as a checkpoint',
    bytes: (t) => t.zip,
    error: {
      code: 'checkpoint', message: 'This file is a zip archive, not a Prompt Tuning Studio checkpoint.',
      hint: 'If it is the studio\'s adapter download, unzip it and resume from the checkpoint.safetensors inside.',
    },
  },
  {
    id: 'checkpoint-csv', area: 'checkpoint', describe: 'a CSV file handed over as a checkpoint',
    bytes: () => utf8('text,label\n' + rows(20)),
    error: { code: 'checkpoint', message: 'This file is not a Prompt Tuning Studio checkpoint.', hint: 'Load a checkpoint the studio saved.' },
  },
  {
    id: 'checkpoint-other-data', area: 'checkpoint', describe: 'a checkpoint for another CSV of the same size and labels',
    bytes: (t) => t.checkpoint, data: { csv: 'text,label\n' + Array.from({ length: 20 }, (_, i) => `another text ${i},${i % 2 ? 'spam' : 'ham'}`).join('\n') },
    error: {
      code: 'checkpoint',
      message: 'The checkpoint was trained on other data: the split has the same size (16 training / 4 validation examples), but its texts or labels differ.',
      hint: 'Load the CSV the run was trained on, with the same column mapping, validation fraction and split seed.',
    },
  },
  {
    id: 'checkpoint-nan', area: 'checkpoint', describe: 'a checkpoint whose prompt holds a NaN',
    bytes: (t) => {
      const c = readCheckpoint(t.checkpoint);
      c.variables[0].data[5] = Number.NaN;
      return writeCheckpoint(c);
    },
    error: {
      code: 'checkpoint', message: 'The checkpoint\'s tensor "variable/embedding.weight" holds 1 of 192 values that are not finite numbers (NaN or infinity).',
      hint: 'The run had diverged when it was saved: resume from an earlier checkpoint, or start a new run with a lower learning rate.',
    },
  },
  {
    id: 'checkpoint-inf-optimizer', area: 'checkpoint', describe: 'a checkpoint whose optimizer state holds infinity',
    bytes: (t) => {
      const c = readCheckpoint(t.checkpoint);
      c.optimizer.slots[1].data.fill(Number.POSITIVE_INFINITY, 0, 4);
      return writeCheckpoint(c);
    },
    error: {
      code: 'checkpoint', message: 'The checkpoint\'s tensor "optimizer/v0" holds 4 of 192 values that are not finite numbers (NaN or infinity).',
      hint: 'The run had diverged when it was saved: resume from an earlier checkpoint, or start a new run with a lower learning rate.',
    },
  },
  {
    id: 'checkpoint-huge-step', area: 'checkpoint', describe: 'a checkpoint at step 1e9',
    bytes: (t) => writeCheckpoint({ ...readCheckpoint(t.checkpoint), step: 1e9 }),
    error: {
      code: 'checkpoint', message: 'The checkpoint\'s step is 1,000,000,000, more than the 1,000,000 steps a run can have.',
      hint: 'It may be damaged; start a new run, or resume from an earlier checkpoint.',
    },
  },
  {
    id: 'checkpoint-step-past-run', area: 'checkpoint', describe: 'a checkpoint at a step past its own run\'s steps',
    bytes: (t) => writeCheckpoint({ ...readCheckpoint(t.checkpoint), step: 50 }),
    error: { code: 'checkpoint', message: 'The checkpoint is at step 50, past the 2 steps its run was set to.', hint: 'It may be damaged; start a new run.' },
  },
  {
    id: 'checkpoint-bad-fingerprint', area: 'checkpoint', describe: 'a checkpoint whose fingerprint is not one (never "trained on undefined")',
    bytes: (t) => writeCheckpoint({ ...readCheckpoint(t.checkpoint), fingerprint: { label: 'x' } as unknown as ModelFingerprint }),
    error: {
      code: 'checkpoint', message: 'The checkpoint does not say which model it was trained on (its "fingerprint" entry is not a model fingerprint).',
      hint: 'It may be damaged; start a new run, or resume from an earlier checkpoint.',
    },
  },
  {
    id: 'checkpoint-bad-settings', area: 'checkpoint', describe: 'a checkpoint whose settings name an unknown optimizer',
    bytes: (t) => {
      const c = readCheckpoint(t.checkpoint);
      return writeCheckpoint({ ...c, trainingConfig: { ...c.trainingConfig, optimizer: 'lion' } });
    },
    error: {
      code: 'checkpoint', message: 'The checkpoint\'s settings are not valid: optimizer: Unknown optimizer "lion".',
      hint: 'It may be damaged or written by another program; start a new run.',
    },
  },
  {
    id: 'checkpoint-truncated', area: 'checkpoint', describe: 'a checkpoint cut off (an interrupted download)',
    bytes: (t) => t.checkpoint.subarray(0, t.checkpoint.byteLength - 100),
    error: {
      code: 'checkpoint',
      message: 'The checkpoint: tensor "variable/embedding.weight" has data_offsets [1536, 2304] outside the 2284 data bytes; the file is truncated or corrupt.',
      hint: 'Download or copy the file again.',
    },
  },
];

// ---- training settings ----------------------------------------------------------------------

/** The data the settings cases (and the trained run) use: 20 rows, ham and spam; 16 train under PAGE_SPLIT. */
export const SETTINGS_CSV = 'text,label\n' + rows(20);

export interface SettingsCase {
  id: string;
  area: 'settings';
  describe: string;
  config: Record<string, unknown>;
  /** Label → verbalizer text, when not the default one. */
  verbalizer?: Record<string, string>;
  error: Expected;
  ui?: boolean;
}

const LR_HINT = 'The paper used 0.3 with Adafactor; 0.1 suits AdamW.';
const TOO_SHORT = 'Raise the max length or shorten the template.';

export const SETTINGS_CASES: SettingsCase[] = [
  { id: 'settings-zero-steps', area: 'settings', describe: 'zero steps', config: { steps: 0 }, error: { code: 'settings', message: 'Steps must be between 1 and 1000000, got 0.' } },
  { id: 'settings-negative-steps', area: 'settings', describe: 'negative steps', config: { steps: -5 }, error: { code: 'settings', message: 'Steps must be between 1 and 1000000, got -5.' } },
  { id: 'settings-fractional-steps', area: 'settings', describe: 'a fractional number of steps', config: { steps: 2.5 }, error: { code: 'settings', message: 'Steps must be a whole number, got 2.5.' } },
  {
    id: 'settings-batch-too-large', area: 'settings', describe: 'a batch larger than the data', config: { batchSize: 500 }, ui: true,
    error: { code: 'settings', message: 'The batch size (500) is larger than the training split (16 examples).', hint: 'Use a batch size of at most 16.' },
  },
  {
    id: 'settings-lr-nan', area: 'settings', describe: 'a learning rate that is not a number', config: { learningRate: Number.NaN },
    error: { code: 'settings', message: 'The learning rate must be a positive number, got NaN.', hint: LR_HINT },
  },
  {
    id: 'settings-lr-negative', area: 'settings', describe: 'a negative learning rate', config: { learningRate: -0.1 },
    error: { code: 'settings', message: 'The learning rate must be a positive number, got -0.1.', hint: LR_HINT },
  },
  { id: 'settings-virtual-tokens-zero', area: 'settings', describe: 'zero virtual tokens', config: { numVirtualTokens: 0 }, error: { code: 'settings', message: 'Virtual tokens must be between 1 and 1000, got 0.' } },
  { id: 'settings-virtual-tokens-huge', area: 'settings', describe: '10,000 virtual tokens', config: { numVirtualTokens: 10000 }, error: { code: 'settings', message: 'Virtual tokens must be between 1 and 1000, got 10000.' } },
  {
    id: 'settings-max-length-below-template', area: 'settings', describe: 'a max length below the template', ui: true,
    config: { maxLength: 4, template: 'Message: {text}\nIs it spam? Answer:' },
    error: { code: 'settings', message: 'The max length (4 tokens) is below the template\'s own length (24 tokens) plus one token of text.', hint: TOO_SHORT },
  },
  {
    id: 'settings-template-without-text', area: 'settings', describe: 'a template without {text}', config: { template: 'Label:' }, ui: true,
    error: { code: 'settings', message: 'The template must contain {text}, where each example\'s text goes.' },
  },
  {
    id: 'settings-text-init-without-text', area: 'settings', describe: 'text init without text', config: { init: 'text', initText: '  ' },
    error: { code: 'settings', message: 'Text initialization needs an init text.', hint: 'Type a phrase that describes the task.' },
  },
  {
    id: 'settings-positions', area: 'settings', describe: 'prompt + length beyond the model', config: { numVirtualTokens: 500, maxLength: 100 },
    error: {
      code: 'settings', message: 'Virtual tokens (500) + max length (100) + the longest label (3 tokens) exceed the model\'s 512 positions.',
      hint: 'Lower the max length or the number of virtual tokens.',
    },
  },
  {
    id: 'settings-verbalizer-empty', area: 'settings', describe: 'a label with an empty verbalizer', config: {}, verbalizer: { ham: ' ', spam: ' spam' },
    error: { code: 'settings', message: 'The label "ham" has no verbalizer text.', hint: 'Give every label the words the model should produce for it.' },
  },
  {
    id: 'settings-verbalizer-same', area: 'settings', describe: 'two labels with the same verbalizer', config: {}, verbalizer: { ham: ' yes', spam: ' yes' }, ui: true,
    error: { code: 'settings', message: 'The labels "ham" and "spam" have the same verbalizer tokens, so the model cannot tell them apart.', hint: 'Give them different verbalizer texts.' },
  },
  {
    id: 'settings-multitask-no-task', area: 'settings', describe: 'multitask prompt tuning without a task column', config: { method: 'multitask' },
    error: { code: 'settings', message: 'Multitask prompt tuning needs a task column.', hint: 'Map a column as the task, or choose another method.' },
  },
];

// ---- the command line ----------------------------------------------------------------------

/**
 * A command line that must end in exactly this error (one line on stderr, exit status 1).
 * `setup` prepares a scratch folder `dir` (files, links, pipes) and returns the arguments;
 * `{dir}` in the expected words stands for that folder. `model`: the command loads the
 * default model before it can tell (the case is skipped where it is not built).
 */
export interface CliCase {
  id: string;
  area: 'cli';
  describe: string;
  setup: (dir: string) => string[];
  error: Expected;
  model?: boolean;
  /** Skipped when this says the machine cannot show it (e.g. running as root, which may write anywhere). */
  skip?: () => string | null;
  /** The page has no command line. */
  ui?: false;
}

const DATA = (dir: string) => {
  const file = path.join(dir, 'data.csv');
  writeFileSync(file, SETTINGS_CSV);
  return file;
};
const OUT_HINT = 'Give --out a path in a folder of your own.';

export const CLI_CASES: CliCase[] = [
  {
    id: 'cli-data-dev-null', area: 'cli', describe: '--data /dev/null',
    setup: (dir) => ['train', '--data', '/dev/null', '--out', path.join(dir, 'out')],
    error: { code: 'cli', message: 'The data file /dev/null is a device (like /dev/null), not a CSV file.' },
  },
  {
    id: 'cli-data-fifo', area: 'cli', describe: '--data a named pipe (reading it would wait forever)',
    setup: (dir) => {
      execFileSync('mkfifo', [path.join(dir, 'pipe.csv')]);
      return ['train', '--data', path.join(dir, 'pipe.csv'), '--out', path.join(dir, 'out')];
    },
    error: { code: 'cli', message: 'The data file {dir}/pipe.csv is a named pipe (FIFO), not a CSV file.' },
  },
  {
    id: 'cli-data-folder', area: 'cli', describe: '--data a folder',
    setup: (dir) => ['train', '--data', dir, '--out', path.join(dir, 'out')],
    error: { code: 'cli', message: 'The data file {dir} is a folder, not a CSV file.' },
  },
  {
    id: 'cli-data-link-loop', area: 'cli', describe: '--data a symbolic link that loops (ELOOP)',
    setup: (dir) => {
      symlinkSync(path.join(dir, 'b.csv'), path.join(dir, 'a.csv'));
      symlinkSync(path.join(dir, 'a.csv'), path.join(dir, 'b.csv'));
      return ['train', '--data', path.join(dir, 'a.csv'), '--out', path.join(dir, 'out')];
    },
    error: { code: 'cli', message: 'Could not read {dir}/a.csv: it is a symbolic link that loops back on itself (or a chain of too many links) (ELOOP).' },
  },
  {
    id: 'cli-data-dangling-link', area: 'cli', describe: '--data a symbolic link to nothing',
    setup: (dir) => {
      symlinkSync(path.join(dir, 'gone.csv'), path.join(dir, 'link.csv'));
      return ['train', '--data', path.join(dir, 'link.csv'), '--out', path.join(dir, 'out')];
    },
    error: { code: 'cli', message: '{dir}/link.csv is a symbolic link to something that does not exist.' },
  },
  {
    id: 'cli-data-huge-binary', area: 'cli', describe: '--data a 1.9 GB file of NUL bytes (sparse: named binary from its first bytes, never read whole)',
    setup: (dir) => {
      const file = path.join(dir, 'zeros.csv');
      closeSync(openSync(file, 'w'));
      truncateSync(file, 1_900_000_000);
      return ['train', '--data', file, '--out', path.join(dir, 'out')];
    },
    error: { code: 'csv', message: '{dir}/zeros.csv: This file looks binary (it contains NUL bytes), not a CSV. A CSV file is plain text.', hint: SAVE_AS_CSV },
  },
  {
    id: 'cli-data-too-large', area: 'cli', describe: '--data a 600 MiB CSV (refused by its size, before it is read)',
    setup: (dir) => {
      const file = path.join(dir, 'big.csv');
      writeFileSync(file, 'text,label\n' + 'a fine text,ham\n'.repeat(5000));
      const fd = openSync(file, 'r+');
      writeSync(fd, 'x', 600 * 2 ** 20 - 1);
      closeSync(fd);
      return ['train', '--data', file, '--out', path.join(dir, 'out')];
    },
    error: {
      code: 'cli', message: 'The data file {dir}/big.csv is 600.0 MiB; the studio reads CSV files up to 512.0 MiB (the text of a larger one does not fit in one JavaScript string).',
      hint: 'Split it into smaller files, or take a sample of its rows.',
    },
  },
  {
    id: 'cli-out-is-file', area: 'cli', describe: '--out names an existing file',
    setup: (dir) => {
      writeFileSync(path.join(dir, 'notes.txt'), 'mine');
      return ['train', '--data', DATA(dir), '--out', path.join(dir, 'notes.txt')];
    },
    error: { code: 'cli', message: '--out {dir}/notes.txt exists and is a file; give a folder name.' },
  },
  {
    id: 'cli-out-proc', area: 'cli', describe: '--out under /proc (writing there hangs or fails oddly)',
    setup: (dir) => ['train', '--data', DATA(dir), '--out', '/proc/self/studio-out'],
    error: { code: 'cli', message: '--out /proc/self/studio-out is inside /proc, a folder the system provides, not a place for files.', hint: OUT_HINT },
  },
  {
    id: 'cli-out-dev-null', area: 'cli', describe: '--out /dev/null',
    setup: (dir) => ['train', '--data', DATA(dir), '--out', '/dev/null'],
    error: { code: 'cli', message: '--out /dev/null is inside /dev, a folder the system provides, not a place for files.', hint: OUT_HINT },
  },
  {
    id: 'cli-out-read-only', area: 'cli', describe: '--out in a folder that cannot be written',
    skip: () => (process.getuid?.() === 0 ? 'running as root, which may write into a read-only folder' : null),
    setup: (dir) => {
      mkdirSync(path.join(dir, 'locked'));
      chmodSync(path.join(dir, 'locked'), 0o555);
      return ['train', '--data', DATA(dir), '--out', path.join(dir, 'locked', 'out')];
    },
    error: { code: 'cli', message: '--out {dir}/locked/out cannot be written: permission denied (EACCES).', hint: 'Give --out a path in a folder you can write to.' },
  },
  {
    id: 'cli-zip-is-folder', area: 'cli', describe: '--zip names a folder',
    setup: (dir) => {
      mkdirSync(path.join(dir, 'prompt.zip'));
      return ['train', '--data', DATA(dir), '--out', path.join(dir, 'out'), '--zip', path.join(dir, 'prompt.zip')];
    },
    error: { code: 'cli', message: '--zip {dir}/prompt.zip is a folder, not a file; give a file name.' },
  },
  {
    id: 'cli-zip-inside-out', area: 'cli', describe: '--zip inside the --out folder (which is replaced as a whole)',
    setup: (dir) => ['train', '--data', DATA(dir), '--out', path.join(dir, 'out'), '--zip', path.join(dir, 'out', 'prompt.zip')],
    error: {
      code: 'cli', message: '--zip {dir}/out/prompt.zip is inside the --out folder, which is replaced as a whole when the adapter is written.',
      hint: 'Put the zip beside the folder, e.g. --out spam-prompt --zip spam-prompt.zip.',
    },
  },
  {
    id: 'cli-resume-dev-null', area: 'cli', describe: '--resume /dev/null',
    setup: (dir) => ['train', '--data', DATA(dir), '--out', path.join(dir, 'out'), '--resume', '/dev/null'],
    error: { code: 'cli', message: 'The checkpoint /dev/null is a device (like /dev/null), not a file.' },
  },
  {
    id: 'cli-adapter-fifo', area: 'cli', describe: '--adapter a named pipe',
    setup: (dir) => {
      execFileSync('mkfifo', [path.join(dir, 'adapter.zip')]);
      return ['import', '--adapter', path.join(dir, 'adapter.zip')];
    },
    error: {
      code: 'cli', message: 'The adapter {dir}/adapter.zip is a named pipe (FIFO), not a folder or a zip.',
      hint: 'Pass the folder holding adapter_config.json and adapter_model.safetensors (as train --out writes it), or the adapter zip.',
    },
  },
  {
    // Only a load that keeps the file's own weights reads it whole; quantizing streams it (tests/model/quantizeOnLoad.test.ts).
    id: 'cli-model-over-2gib', area: 'cli', describe: 'a model folder whose model.safetensors is 3 GiB, kept float (sparse; Node reads one file of at most 2 GiB)',
    setup: (dir) => {
      const model = path.join(dir, 'model');
      mkdirSync(model);
      for (const [name, bytes] of fixtureFiles('llama')) if (name !== 'model.safetensors') writeFileSync(path.join(model, name), bytes);
      closeSync(openSync(path.join(model, 'model.safetensors'), 'w'));
      truncateSync(path.join(model, 'model.safetensors'), 3 * 2 ** 30);
      return ['info', '--float', '--model', model];
    },
    error: {
      code: 'model', message: '{dir}/model/model.safetensors is 3.0 GiB; the studio reads files of up to 2 GiB.',
      hint: 'Save the weights as shards of at most 2 GiB (transformers\' save_pretrained(max_shard_size="2GB") writes model.safetensors.index.json and the shards).',
    },
  },
  {
    id: 'cli-header-both', area: 'cli', describe: '--header and --no-header together', model: true,
    setup: (dir) => ['train', '--data', DATA(dir), '--out', path.join(dir, 'out'), '--header', '--no-header'],
    error: { code: 'cli', message: 'Give --header or --no-header, not both.' },
  },
  {
    id: 'cli-adapter-folder-huge-weights', area: 'cli', describe: 'an adapter folder whose weights file is 1 GiB (sparse: refused by its size, never read)', model: true,
    setup: (dir) => {
      const folder = path.join(dir, 'big-adapter');
      mkdirSync(folder);
      writeFileSync(path.join(folder, 'adapter_config.json'), '{"peft_type": "PROMPT_TUNING"}');
      closeSync(openSync(path.join(folder, 'adapter_model.safetensors'), 'w'));
      truncateSync(path.join(folder, 'adapter_model.safetensors'), 2 ** 30);
      return ['import', '--adapter', folder];
    },
    error: {
      code: 'cli', message: '{dir}/big-adapter/adapter_model.safetensors is 1.0 GiB, more than the 20.9 MiB an adapter for this model can hold.',
      hint: 'It is not a file the studio or PEFT wrote for this model.',
    },
  },
  {
    id: 'cli-adapter-zip-bomb', area: 'cli', describe: 'import of a 1 MiB zip that unpacks to 1 GiB (read once, refused before it is unpacked)', model: true,
    setup: (dir) => {
      const file = path.join(dir, 'bomb.zip');
      writeFileSync(file, rawZip([
        stored('adapter_config.json', utf8('{"peft_type": "PROMPT_TUNING", "task_type": "CAUSAL_LM"}')),
        stored('studio.json', utf8('{"format": "prompt-tuning-studio/adapter", "version": 1}')),
        zeros('adapter_model.safetensors', promptHeader(3), GiB),
      ]));
      return ['import', '--adapter', file];
    },
    error: { code: 'adapter', message: `The adapter zip's adapter_model.safetensors unpacks to 1.0 GiB, more than the ${WEIGHTS_LIMIT} an adapter for this model can hold.`, hint: NOT_OURS },
  },
];

export type Case = CsvCase | ModelCase | AdapterCase | CheckpointCase | SettingsCase | CliCase;

export const CASES: Case[] = [...CSV_CASES, ...MODEL_CASES, ...ADAPTER_CASES, ...CHECKPOINT_CASES, ...SETTINGS_CASES, ...CLI_CASES];
