/**
 * The bad-input corpus: every way a user can hand the studio something wrong, with the
 * exact words they read in return. Each case runs against the engine in Node
 * (bad-inputs.test.ts); the cases marked `ui` also run through the page in Chromium
 * (e2e/bad-inputs.spec.ts).
 */
export type Area = 'csv' | 'model' | 'adapter' | 'checkpoint' | 'settings';

export interface CsvCase {
  id: string;
  area: 'csv';
  describe: string;
  fileName: string;
  bytes: () => Uint8Array;
  /** The error the user reads (whole text), or null when the file loads. */
  error: string | null;
  /** Exactly the warnings shown for the file and its dataset, when it loads. */
  warnings?: string[];
  /** Every rejected row's line and reason, when it loads. */
  rejected?: { line: number; reason: string }[];
  /** What must be true of the loaded data. */
  check?: { rows?: number; columns?: string[]; labels?: [string, number][]; encoding?: string };
  ui?: boolean;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const rows = (n: number, label = (i: number) => (i % 2 ? 'spam' : 'ham')) =>
  Array.from({ length: n }, (_, i) => `message number ${i},${label(i)}`).join('\n');

function utf16le(s: string): Uint8Array {
  const out = new Uint8Array(2 + s.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < s.length; i++) {
    out[2 + 2 * i] = s.charCodeAt(i) & 0xff;
    out[3 + 2 * i] = s.charCodeAt(i) >> 8;
  }
  return out;
}

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const SINGLE_B = 'Label "b" has only one example, which stays in training, so the model cannot be validated on it. Add more examples of it.';

export const CSV_CASES: CsvCase[] = [
  {
    id: 'csv-empty', area: 'csv', describe: 'an empty file', fileName: 'empty.csv', bytes: () => new Uint8Array(0), ui: true,
    error: 'The file is empty. Choose a CSV file with a header row (for example "text,label") and at least two labeled rows.',
  },
  {
    id: 'csv-header-only', area: 'csv', describe: 'a header and no rows', fileName: 'header.csv', bytes: () => utf8('text,label\n'),
    error: 'The file has a header row (text, label) but no data rows. Add at least two labeled rows under the header, or, if that first line is data, say that the file has no header.',
  },
  {
    id: 'csv-one-row', area: 'csv', describe: 'a single data row', fileName: 'one.csv', bytes: () => utf8('text,label\nhello there,a\n'), ui: true,
    error: 'All 1 usable rows have the same label ("a"), so there is nothing to tell apart. A classifier needs at least two labels: add examples of another class, or check that "label" is really the label column.',
  },
  {
    id: 'csv-one-class', area: 'csv', describe: 'every row has the same label', fileName: 'oneclass.csv', bytes: () => utf8('text,label\nhello,a\nworld,a\nagain,a\n'),
    error: 'All 3 usable rows have the same label ("a"), so there is nothing to tell apart. A classifier needs at least two labels: add examples of another class, or check that "label" is really the label column.',
  },
  {
    id: 'csv-single-example-label', area: 'csv', describe: 'a label with a single example', fileName: 'single.csv',
    bytes: () => utf8('text,label\nhello,a\nworld,a\nfoo,b\nbar,a\nbaz,c\nqux,c\n'), error: null,
    warnings: [SINGLE_B], check: { labels: [['a', 3], ['b', 1], ['c', 2]] },
  },
  {
    id: 'csv-missing-labels', area: 'csv', describe: 'rows without a label', fileName: 'missing.csv',
    bytes: () => utf8('text,label\nhello,a\nworld,\nfoo,b\nbar,a\nbaz,b\n'), error: null, warnings: [], ui: true,
    rejected: [{ line: 3, reason: 'The label is missing (column "label" is empty).' }], check: { labels: [['a', 2], ['b', 2]] },
  },
  {
    id: 'csv-unterminated-quote', area: 'csv', describe: 'a quote that is never closed', fileName: 'quote.csv',
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
    id: 'csv-utf16', area: 'csv', describe: 'a UTF-16 file (Excel "Unicode text")', fileName: 'utf16.csv',
    bytes: () => utf16le('text,label\ncafé au lait,a\nnaïve,b\nfoo,a\nbar,b\n'), error: null, warnings: [],
    check: { rows: 4, encoding: 'utf-16le' },
  },
  {
    id: 'csv-latin1', area: 'csv', describe: 'a Latin-1 file', fileName: 'latin1.csv',
    bytes: () => latin1('text,label\ncaf\u00e9,a\nna\u00efve,b\nfoo,a\nbar,b\n'), error: null,
    check: { rows: 4, encoding: 'windows-1252' },
  },
  {
    id: 'csv-binary', area: 'csv', describe: 'a PNG renamed to .csv', fileName: 'picture.csv', ui: true,
    bytes: () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3]),
    error: 'This file looks binary (it is a PNG image), not a CSV. A CSV file is plain text. Save or export your data as a CSV file (UTF-8) and upload that.',
  },
  {
    id: 'csv-duplicate-columns', area: 'csv', describe: 'two columns with the same name', fileName: 'dup.csv',
    bytes: () => utf8('text,text,label\nhello,x,a\nworld,y,b\nfoo,z,b\nbar,w,a\n'), error: null,
    warnings: ['Some column names appear more than once, so later copies were renamed: "text" → "text_2".'],
    check: { columns: ['text', 'text_2', 'label'] },
  },
  {
    id: 'csv-formula-cells', area: 'csv', describe: 'spreadsheet formulas in text cells', fileName: 'formula.csv', ui: true,
    bytes: () => utf8('text,label\n"=HYPERLINK(""http://example.com"",""win"")",spam\n+44 call now,spam\nsee you,ham\nok,ham\n'), error: null, warnings: [],
    check: { rows: 4 },
  },
  {
    id: 'csv-html-script', area: 'csv', describe: 'HTML and script in text cells', fileName: 'html.csv', ui: true,
    bytes: () => utf8('text,label\n<script>window.__pwned=1</script>,spam\n<img src=x onerror="window.__pwned=2">,spam\nsee you,ham\nok,ham\n'), error: null, warnings: [],
    check: { rows: 4 },
  },
  {
    id: 'csv-rtl-emoji', area: 'csv', describe: 'right-to-left and emoji text', fileName: 'rtl.csv',
    bytes: () => utf8('text,label\nשלום עולם 👋,greeting\nمرحبا بالعالم 🌍,greeting\n👨‍👩‍👧 family 🇺🇳,other\nok 😀,other\n'), error: null, warnings: [],
    check: { rows: 4, labels: [['greeting', 2], ['other', 2]] },
  },
  {
    id: 'csv-50mb', area: 'csv', describe: 'a 50 MB file with 100,000 rows', fileName: 'big.csv',
    bytes: () => utf8('text,label\n' + Array.from({ length: 100_000 }, (_, i) => `"${`row ${i}, `.repeat(50).slice(0, 496)}",${['ham', 'spam', 'other'][i % 3]}`).join('\n')),
    error: null, warnings: [], check: { rows: 100_000, labels: [['ham', 33334], ['other', 33333], ['spam', 33333]] },
  },
  {
    id: 'csv-huge-cell', area: 'csv', describe: 'a 2,000,000-character cell', fileName: 'huge.csv',
    bytes: () => utf8(`text,label\n${'a'.repeat(2_000_000)},a\nshort,b\nfoo,a\nbar,b\n`), error: null, warnings: [],
    check: { rows: 4 },
  },
];

export interface SettingsCase {
  id: string;
  area: 'settings';
  describe: string;
  config: Record<string, unknown>;
  error: string;
  ui?: boolean;
}

export const SETTINGS_CASES: SettingsCase[] = [
  { id: 'settings-zero-steps', area: 'settings', describe: 'zero steps', config: { steps: 0 }, error: 'Steps must be between 1 and 1000000, got 0.', ui: true },
  { id: 'settings-negative-steps', area: 'settings', describe: 'negative steps', config: { steps: -5 }, error: 'Steps must be between 1 and 1000000, got -5.' },
  { id: 'settings-batch-too-large', area: 'settings', describe: 'a batch larger than the data', config: { batchSize: 500 }, error: 'The batch size (500) is larger than the training split (16 examples). Use a batch size of at most 16.' },
  { id: 'settings-lr-nan', area: 'settings', describe: 'a learning rate that is not a number', config: { learningRate: Number.NaN }, error: 'The learning rate must be a positive number, got NaN. The paper used 0.3 with Adafactor; 0.1 suits AdamW.' },
  { id: 'settings-virtual-tokens-zero', area: 'settings', describe: 'zero virtual tokens', config: { numVirtualTokens: 0 }, error: 'Virtual tokens must be between 1 and 1000, got 0.' },
  { id: 'settings-virtual-tokens-huge', area: 'settings', describe: '10,000 virtual tokens', config: { numVirtualTokens: 10000 }, error: 'Virtual tokens must be between 1 and 1000, got 10000.' },
  { id: 'settings-max-length-below-template', area: 'settings', describe: 'a max length below the template', config: { maxLength: 4, template: 'Message: {text}\nIs it spam? Answer:' }, error: "The max length (4 tokens) is below the template's own length (24 tokens) plus one token of text. Raise the max length or shorten the template." },
  { id: 'settings-template-without-text', area: 'settings', describe: 'a template without {text}', config: { template: 'Label:' }, error: "The template must contain {text}, where each example's text goes." },
  { id: 'settings-text-init-without-text', area: 'settings', describe: 'text init without text', config: { init: 'text', initText: '  ' }, error: 'Text initialization needs an init text. Type a phrase that describes the task.' },
  { id: 'settings-positions', area: 'settings', describe: 'prompt + length beyond the model', config: { numVirtualTokens: 500, maxLength: 100 }, error: "Virtual tokens (500) + max length (100) + the longest label (3 tokens) exceed the model's 512 positions. Lower the max length or the number of virtual tokens." },
];
