import Papa from 'papaparse';
import { StudioError } from '../errors';
import { decodeBytes, type TextEncodingName } from './decode';

export type Delimiter = ',' | ';' | '\t' | '|';
export const DELIMITERS: readonly Delimiter[] = [',', ';', '\t', '|'];

/** A row that could not be read, with the 1-based physical line where it starts. */
export interface RowProblem {
  line: number;
  reason: string;
}

export interface ParsedTable {
  /** Unique, non-empty column names (generated as column_1… when there is no header). */
  columns: string[];
  /** Data rows only; every row has exactly `columns.length` fields. */
  rows: string[][];
  /** 1-based physical line in the file where each row starts (the header is line 1 when present). */
  lineNumbers: number[];
  delimiter: Delimiter;
  hasHeader: boolean;
  /**
   * Whether double quotes were read as CSV quoting (RFC 4180). False for files that use quotes as
   * ordinary characters, such as raw tab-separated exports where texts begin with a quote.
   */
  quoted: boolean;
  /** Rows that were not read, in line order. Nothing is dropped without a problem entry. */
  problems: RowProblem[];
  warnings: string[];
  /** Set by readCsv: how the bytes were decoded. */
  encoding?: TextEncodingName;
}

export interface ParseCsvOptions {
  /** Skip delimiter detection. */
  delimiter?: Delimiter;
  /** Skip header detection. */
  hasHeader?: boolean;
  /** Skip quote-mode detection: true = RFC 4180 quotes, false = quotes are ordinary characters. */
  quoted?: boolean;
}

export interface ParseCsvAsyncOptions extends ParseCsvOptions {
  /** Called with strictly increasing fractions in (0, 1]; the last call is exactly 1. */
  onProgress?: (fraction: number) => void;
  /** Characters parsed between yields to the event loop (default 256 Ki). */
  chunkSize?: number;
  signal?: AbortSignal;
}

/** Rows and characters looked at to choose the delimiter, quote mode and header. */
const SAMPLE_CHARS = 1 << 20;
const SAMPLE_ROWS = 2000;
/** Enough broken quotes to judge a reading; stopping early bounds the cost of re-scanning after each. */
const MAX_SAMPLE_BROKEN = 20;
const DEFAULT_CHUNK_CHARS = 256 * 1024;
/**
 * A row still open after this many characters is rejected, and reading resumes on its next line.
 * Such a row is in practice always a quote that never closes; without the cap each one would make
 * the parser re-scan to the end of the file. (A real text this long is far beyond what a small
 * model can read anyway.)
 */
const MAX_ROW_CHARS = 256 * 1024;
/** Detection only needs to see that a reading fails, so it gives up on a row much sooner. */
const SAMPLE_MAX_ROW_CHARS = 32 * 1024;

type Newline = '\n' | '\r\n' | '\r';

const DELIMITER_NAMES: Record<Delimiter, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe (|)' };

/** Parses CSV/TSV text in one go. See parseCsvAsync for large files. */
export function parseCsv(text: string, options: ParseCsvOptions = {}): ParsedTable {
  const reader = new TableReader(text, options, DEFAULT_CHUNK_CHARS);
  while (!reader.done) reader.advance();
  return reader.finish();
}

/**
 * Same result as parseCsv, but parses in windows of `chunkSize` characters and awaits a macrotask
 * between them, so a worker stays responsive (cancel, progress messages) on a 50 MB file.
 */
export async function parseCsvAsync(text: string, options: ParseCsvAsyncOptions = {}): Promise<ParsedTable> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_CHARS;
  if (!Number.isInteger(chunkSize) || chunkSize < 1024) {
    throw new StudioError('settings', `The CSV chunk size must be a whole number of at least 1024 characters (got ${chunkSize}).`);
  }
  options.signal?.throwIfAborted();
  const reader = new TableReader(text, options, chunkSize);
  let reported = 0;
  while (!reader.done) {
    reader.advance();
    const fraction = reader.done ? 1 : reader.fraction;
    if (fraction > reported) {
      reported = fraction;
      options.onProgress?.(fraction);
    }
    if (!reader.done) {
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
    }
  }
  if (reported < 1) options.onProgress?.(1);
  return reader.finish();
}

/** Decodes the bytes of an uploaded file (see decodeBytes) and parses them. */
export async function readCsv(
  bytes: Uint8Array | ArrayBuffer,
  options: ParseCsvAsyncOptions = {},
): Promise<ParsedTable> {
  const decoded = decodeBytes(bytes);
  const table = await parseCsvAsync(decoded.text, options);
  return { ...table, encoding: decoded.encoding, warnings: [...decoded.warnings, ...table.warnings] };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

interface Plan {
  text: string;
  /** Where the first row starts (after an Excel "sep=" line). */
  start: number;
  newline: Newline;
  delimiter: Delimiter;
  quoted: boolean;
  hasHeader: boolean;
  /** Field count every data row must have. */
  width: number;
  warnings: string[];
}

/** The shape of the low-level papaparse Parser's step results (data holds the one row). */
interface StepResult {
  data: string[][];
  errors: Papa.ParseError[];
  meta: { cursor: number };
}

/** What RowSink.row returns besides a restart offset. */
const CONTINUE = -1;
const STOP = -2;

interface RowSink {
  /**
   * One row as papaparse split it, with its character span [start, stop) in the text (stop
   * includes the line end). Returns CONTINUE, STOP, or an offset to restart parsing from.
   */
  row(fields: string[], start: number, stop: number, quoteError: Papa.ParseError | undefined): number;
  /** A row starting at `start` never ended within MAX_ROW_CHARS; scanning resumes on the next line. */
  runaway(start: number): void;
}

/**
 * Drives papaparse's low-level Parser window by window over the text. Owning the loop (rather
 * than using Papa.parse's chunk mode) gives what we need: the character offset of every row
 * (for line numbers), restarting on the next line after a broken quote, and pausing between
 * windows without papaparse's pause/resume machinery.
 */
class RowScanner {
  done = false;
  pos = 0;
  private window: number;

  constructor(
    private readonly text: string,
    private readonly newline: Newline,
    private readonly delimiter: Delimiter,
    private readonly quoted: boolean,
    private readonly chunkSize: number,
    private readonly maxRowChars: number,
    start: number,
  ) {
    this.window = chunkSize;
    this.pos = start;
    if (start >= text.length) this.done = true;
  }

  private quoteOpensRow(base: number, end: number): boolean {
    return this.quoted && quoteOnFirstLine(this.text, base, end);
  }

  /** Parses one window (at most about chunkSize characters, more only for a row that long). */
  advance(sink: RowSink): void {
    if (this.done) return;
    const { text } = this;
    const base = this.pos;
    const end = Math.min(text.length, base + this.window);
    const isLast = end === text.length;
    let rowStart = 0;
    let resumeAt = CONTINUE;
    const parser: Papa.Parser = new Papa.Parser({
      delimiter: this.delimiter,
      newline: this.newline,
      quoteChar: '"',
      // Unquoted mode: papaparse's fast path splits on newline and delimiter and never treats
      // quotes specially, which is exactly "quotes are ordinary characters".
      fastMode: this.quoted ? undefined : true,
      step: (res: unknown) => {
        const r = res as StepResult;
        const start = base + rowStart;
        const stop = base + r.meta.cursor;
        rowStart = r.meta.cursor;
        const quoteError = r.errors.find((e) => e.type === 'Quotes');
        const next = sink.row(r.data[0] ?? [''], start, stop, quoteError);
        if (next !== CONTINUE) {
          resumeAt = next;
          parser.abort();
        }
      },
    } as Papa.ParseConfig);
    const result = parser.parse(text.slice(base, end), 0, !isLast) as StepResult;

    if (resumeAt === STOP) {
      this.done = true;
      return;
    }
    if (resumeAt >= 0) {
      this.pos = resumeAt;
      this.window = this.chunkSize;
    } else if (isLast) {
      this.pos = text.length;
    } else if (result.meta.cursor > 0) {
      this.pos = base + result.meta.cursor;
      this.window = this.chunkSize;
    } else if (end - base >= this.maxRowChars && this.quoteOpensRow(base, end)) {
      sink.runaway(base);
      this.pos = nextLineStart(text, base);
      this.window = this.chunkSize;
    } else {
      // No complete row fits in this window (a very long row or a long quoted field): widen it.
      this.window *= 2;
    }
    if (this.pos >= text.length) this.done = true;
  }
}

/**
 * Whether the long row at `base` holds a quote on its first physical line. Only a quote can
 * make a row run on past its line end; a row without one is just a long cell (a 2-million-
 * character text is data, not a broken file), so the window keeps widening for it.
 */
function quoteOnFirstLine(text: string, base: number, end: number): boolean {
  let stop = end;
  for (const lineEnd of ['\n', '\r']) {
    const at = text.indexOf(lineEnd, base);
    if (at >= 0 && at < stop) stop = at;
  }
  return text.slice(base, stop).includes('"');
}

/** Builds the ParsedTable from scanned rows: header, widths, problems, line numbers. */
class TableReader implements RowSink {
  private readonly plan: Plan;
  private readonly text: string;
  private readonly scanner: RowScanner;
  private readonly lines: LineCounter;
  private header: string[] | null = null;
  private columnNames: string[] | null = null;
  private readonly rows: string[][] = [];
  private readonly lineNumbers: number[] = [];
  private readonly problems: RowProblem[] = [];
  private lenientQuoteRows = 0;
  private trimmedTrailingRows = 0;

  constructor(input: string, options: ParseCsvOptions, chunkSize: number) {
    validateOptions(options);
    this.plan = makePlan(input, options);
    this.text = this.plan.text;
    this.lines = new LineCounter(this.text);
    this.scanner = new RowScanner(this.text, this.plan.newline, this.plan.delimiter, this.plan.quoted, chunkSize, MAX_ROW_CHARS, this.plan.start);
  }

  get done(): boolean {
    return this.scanner.done;
  }

  get fraction(): number {
    return this.text.length === 0 ? 1 : this.scanner.pos / this.text.length;
  }

  advance(): void {
    this.scanner.advance(this);
  }

  row(fields: string[], start: number, stop: number, quoteError: Papa.ParseError | undefined): number {
    const line = this.lines.lineAt(start);
    if (isBlankRow(fields)) return CONTINUE;

    if (quoteError) {
      const width = this.header ? this.plan.width : fields.length;
      if (spansLineBreak(this.text, start, stop) || fields.length !== width) {
        this.problems.push({ line, reason: quoteProblem(quoteError, line, this.plan.delimiter) });
        // Restart on the next physical line rather than after the row: a broken quote swallows
        // the lines after it, and those are usually fine rows.
        return nextLineStart(this.text, start);
      }
      // A quote error confined to one line with the right field count is a stray quote inside
      // a quoted field (`"say "hi" now",x`); papaparse's lenient reading of it is what people mean.
      this.lenientQuoteRows++;
    }

    if (this.plan.hasHeader && this.header === null) {
      this.header = fields;
      return CONTINUE;
    }
    if (this.header !== null && sameRow(fields, this.header)) {
      this.problems.push({ line, reason: `This row repeats the header row (${listFew(this.columns())}), as where two files were pasted together; it was skipped.` });
      return CONTINUE;
    }

    const width = this.plan.width;
    let row = fields;
    if (row.length > width && row.slice(width).every((f) => f.trim() === '')) {
      row = row.slice(0, width);
      this.trimmedTrailingRows++;
    }
    if (row.length !== width) {
      this.problems.push({ line, reason: widthProblem(row.length, width, this.columns(), this.plan.delimiter) });
      return CONTINUE;
    }
    this.rows.push(row);
    this.lineNumbers.push(line);
    return CONTINUE;
  }

  runaway(start: number): void {
    const line = this.lines.lineAt(start);
    this.problems.push({
      line,
      reason:
        `The row starting on line ${line} runs on for more than ${MAX_ROW_CHARS.toLocaleString('en-US')} characters, ` +
        'which almost always means a quote (") opened there is never closed. The line was skipped and reading went on with the next line; ' +
        'close the quote, or write quotes inside a quoted text as two quotes ("").',
    });
  }

  private columns(): string[] {
    if (!this.columnNames) {
      this.columnNames = this.header ? makeColumnNames(this.header, this.plan.width).names : generatedNames(this.plan.width);
    }
    return this.columnNames;
  }

  finish(): ParsedTable {
    const { plan } = this;
    const warnings = [...plan.warnings];
    let columns: string[];
    if (plan.hasHeader) {
      const named = makeColumnNames(this.header ?? [], plan.width);
      columns = named.names;
      warnings.push(...named.warnings);
      if (this.rows.length === 0 && this.problems.length === 0) {
        throw new StudioError(
          'csv',
          `The file has a header row (${columns.join(', ')}) but no data rows.`,
          'Add at least two labeled rows under the header, or, if that first line is data, say that the file has no header.',
        );
      }
    } else {
      columns = generatedNames(plan.width);
      if (this.rows.length === 0 && this.problems.length === 0) throw emptyFileError();
    }
    if (this.lenientQuoteRows > 0) {
      warnings.push(
        `${countOf(this.lenientQuoteRows, 'row')} had a stray double quote (") inside a quoted field; ` +
          'it was read as an ordinary character. Check those texts if quotes matter.',
      );
    }
    if (this.trimmedTrailingRows > 0) {
      warnings.push(
        `${countOf(this.trimmedTrailingRows, 'row')} ended with extra empty fields (a trailing ${DELIMITER_NAMES[plan.delimiter]}); they were ignored.`,
      );
    }
    return {
      columns,
      rows: this.rows,
      lineNumbers: this.lineNumbers,
      delimiter: plan.delimiter,
      hasHeader: plan.hasHeader,
      quoted: plan.quoted,
      problems: this.problems,
      warnings,
    };
  }
}

/** The same cells, ignoring the spaces around each (a header typed again is rarely typed identically). */
function sameRow(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v.trim() === (b[i] ?? '').trim());
}

function listFew(items: string[], max = 6): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, …`;
}

function isBlankRow(fields: string[]): boolean {
  return fields.length === 1 && fields[0].trim() === '';
}

function emptyFileError(): StudioError {
  return new StudioError(
    'csv',
    'The file is empty.',
    'Choose a CSV file with a header row (for example "text,label") and at least two labeled rows.',
  );
}

function validateOptions(options: ParseCsvOptions): void {
  if (options.delimiter !== undefined && !DELIMITERS.includes(options.delimiter)) {
    throw new StudioError(
      'settings',
      `"${String(options.delimiter)}" is not a supported delimiter.`,
      'Choose comma, semicolon, tab or pipe (|).',
    );
  }
  if (options.hasHeader !== undefined && typeof options.hasHeader !== 'boolean') {
    throw new StudioError('settings', 'The "has header" setting must be yes or no.');
  }
  if (options.quoted !== undefined && typeof options.quoted !== 'boolean') {
    throw new StudioError('settings', 'The "quoted fields" setting must be yes or no.');
  }
}

function makePlan(input: string, options: ParseCsvOptions): Plan {
  let text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (!/\S/.test(text)) throw emptyFileError();
  const warnings: string[] = [];
  const nl = detectNewline(text);
  if (nl.mixed) {
    // papaparse takes one newline sequence per file; mixed files (concatenated exports) are
    // normalised so every style ends a row. Line counting treats each style as one break either way.
    text = text.replace(/\r\n?/g, '\n');
    warnings.push('The file mixes line-end styles (Windows CRLF, Unix LF, old Mac CR); all of them were read as line ends.');
  }
  const newline = nl.mixed ? '\n' : nl.newline;

  // Excel writes a first line "sep=;" to name the delimiter; honour it and skip the line.
  const sep = /^sep=([,;\t|])(\r\n|\n|\r|$)/.exec(text);
  const start = sep ? sep[0].length : 0;
  const hinted = sep ? (sep[1] as Delimiter) : undefined;

  const guess = papaparseGuess(text.slice(start, start + 64 * 1024), newline);
  const delimiters = options.delimiter ? [options.delimiter] : hinted ? [hinted] : DELIMITERS;
  const candidates: Candidate[] = [];
  for (const d of delimiters) {
    const quotedReading = scoreCandidate(text, start, newline, d, true);
    if (options.quoted !== false) candidates.push(quotedReading);
    // Reading quotes as plain characters is only considered when quoting visibly fails more
    // than once; a single broken quote in a real CSV is a row problem, not a different format.
    if (options.quoted === false || (options.quoted === undefined && quotedReading.quoteProblems >= 2)) {
      candidates.push(scoreCandidate(text, start, newline, d, false));
    }
  }
  const ranked = [...candidates].sort((a, b) => compareCandidates(a, b, guess));
  let chosen = ranked.find((c) => c.width >= 2 && c.consistency >= 0.5);
  if (!chosen) {
    // One column (or no delimiter that splits rows consistently): pick the delimiter that
    // splits the fewest rows so that, say, commas inside sentences do not create columns.
    const fewestSplits = [...candidates].sort((a, b) => b.singleShare - a.singleShare || compareCandidates(a, b, guess))[0];
    chosen = { ...fewestSplits, width: 1 };
    if (!options.delimiter && !hinted) {
      warnings.push(
        'No delimiter (comma, semicolon, tab or pipe) splits this file into consistent columns, so each line was read as a single column.',
      );
    }
  }
  const best = chosen;
  if (!best.quoted && options.quoted === undefined) {
    warnings.push(
      'Double quotes (") in this file were read as ordinary characters, because the file does not use CSV quoting ' +
        'consistently (typical of tab-separated exports where a text starts with a quote).',
    );
  }

  const first = best.rows[0] ?? [];
  // A copy of the first line further down (two exports pasted together) says nothing about
  // whether it is a header: judged without its copies, and skipped as a row problem if it is one.
  const dataRows = best.rows.slice(1).filter((r) => r.length === best.width && !sameRow(r, first));
  const hasHeader = options.hasHeader ?? looksLikeHeader(first, dataRows);
  let width = best.width;
  if (hasHeader && first.length > 0) {
    width = first.length;
    // A header with trailing empty names beyond the data's width is a trailing delimiter, not columns.
    while (width > best.width && (first[width - 1] ?? '').trim() === '') width--;
  }
  if (!hasHeader && options.hasHeader === undefined && width > 1) {
    warnings.push(
      `The first line does not look like a header, so it was read as data and the columns were named ${generatedNames(width).join(', ')}. ` +
        'If the first line holds column names, say that the file has a header.',
    );
  }
  return { text, start, newline, delimiter: best.delimiter, quoted: best.quoted, hasHeader, width, warnings };
}

interface Candidate {
  delimiter: Delimiter;
  quoted: boolean;
  /** Most common field count among sampled rows. */
  width: number;
  /** Share of sampled rows with `width` fields (rows lost to a broken quote count as bad). */
  consistency: number;
  /** Share of sampled rows that this delimiter leaves as a single field. */
  singleShare: number;
  /** Rows that a quote broke: multi-line quote errors, runaways, and one-line ones of the wrong width. */
  quoteProblems: number;
  /** Readable sampled rows (no blank lines, no broken-quote rows). */
  rows: string[][];
}

/** Reads the first rows the way TableReader would (same recovery), to judge a delimiter/quote mode. */
function scoreCandidate(text: string, start: number, newline: Newline, delimiter: Delimiter, quoted: boolean): Candidate {
  const rows: string[][] = [];
  const quoteFlag: boolean[] = [];
  let broken = 0;
  const sink: RowSink = {
    row(fields, start, stop, quoteError) {
      if (isBlankRow(fields)) return CONTINUE;
      if (quoteError && spansLineBreak(text, start, stop)) {
        broken++;
        return rows.length + broken >= SAMPLE_ROWS || broken >= MAX_SAMPLE_BROKEN ? STOP : nextLineStart(text, start);
      }
      rows.push(fields);
      quoteFlag.push(quoteError !== undefined);
      return rows.length + broken >= SAMPLE_ROWS || stop >= start + SAMPLE_CHARS ? STOP : CONTINUE;
    },
    runaway() {
      broken++;
    },
  };
  const scanner = new RowScanner(text, newline, delimiter, quoted, SAMPLE_MAX_ROW_CHARS, SAMPLE_MAX_ROW_CHARS, start);
  while (!scanner.done && scanner.pos < start + SAMPLE_CHARS && broken < MAX_SAMPLE_BROKEN) scanner.advance(sink);

  const counts = new Map<number, number>();
  for (const r of rows) counts.set(r.length, (counts.get(r.length) ?? 0) + 1);
  let width = 1;
  let widthCount = 0;
  for (const [w, n] of counts) {
    if (n > widthCount || (n === widthCount && w > width)) {
      width = w;
      widthCount = n;
    }
  }
  let single = 0;
  let quoteProblems = broken;
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].length === 1) single++;
    if (quoteFlag[i] && rows[i].length !== width) quoteProblems++;
  }
  const total = rows.length + broken;
  return {
    delimiter,
    quoted,
    width,
    consistency: total === 0 ? 0 : widthCount / total,
    singleShare: total === 0 ? 0 : single / total,
    quoteProblems,
    rows: rows.filter((r, i) => !(quoteFlag[i] && r.length !== width)),
  };
}

function compareCandidates(a: Candidate, b: Candidate, guess: Delimiter | null): number {
  const EPS = 1e-9;
  if (Math.abs(a.consistency - b.consistency) > EPS) return b.consistency - a.consistency;
  // Equal evidence: RFC quoting is the standard, and papaparse's own guess breaks delimiter ties.
  if (a.quoted !== b.quoted) return a.quoted ? -1 : 1;
  if ((a.delimiter === guess) !== (b.delimiter === guess)) return a.delimiter === guess ? -1 : 1;
  if (a.width !== b.width) return b.width - a.width;
  return DELIMITERS.indexOf(a.delimiter) - DELIMITERS.indexOf(b.delimiter);
}

function papaparseGuess(sample: string, newline: Newline): Delimiter | null {
  const res = Papa.parse<string[]>(sample, {
    preview: 10,
    newline,
    delimitersToGuess: [...DELIMITERS],
  });
  if (res.errors.some((e) => e.code === 'UndetectableDelimiter')) return null;
  const d = res.meta.delimiter as Delimiter;
  return DELIMITERS.includes(d) ? d : null;
}

/**
 * Finds the line-end style. Counting uses native indexOf; the slower quote-aware scan only runs
 * when styles differ somewhere, because Excel writes CRLF rows with bare LF inside quoted cells,
 * which is not mixing.
 */
function detectNewline(text: string): { newline: Newline; mixed: boolean } {
  const cr = countOccurrences(text, '\r');
  if (cr === 0) return { newline: '\n', mixed: false };
  const lf = countOccurrences(text, '\n');
  if (lf === 0) return { newline: '\r', mixed: false };
  const crlf = countOccurrences(text, '\r\n');
  if (crlf === cr && crlf === lf) return { newline: '\r\n', mixed: false };

  let nCrlf = 0;
  let nLf = 0;
  let nCr = 0;
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) inQuotes = !inQuotes; // `""` toggles twice, so escaped quotes need no special case
    else if (!inQuotes) {
      if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) {
          nCrlf++;
          i++;
        } else nCr++;
      } else if (c === 10) nLf++;
    }
  }
  const kinds = (nCrlf > 0 ? 1 : 0) + (nLf > 0 ? 1 : 0) + (nCr > 0 ? 1 : 0);
  if (kinds > 1) return { newline: '\n', mixed: true };
  if (nCrlf > 0) return { newline: '\r\n', mixed: false };
  if (nCr > 0) return { newline: '\r', mixed: false };
  if (nLf > 0) return { newline: '\n', mixed: false };
  // Every line break sits inside quotes (unbalanced quotes): let the dominant raw style decide.
  if (crlf >= lf - crlf && crlf >= cr - crlf) return { newline: '\r\n', mixed: false };
  return { newline: lf - crlf >= cr - crlf ? '\n' : '\r', mixed: false };
}

function countOccurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Counts \n, \r\n and lone \r as one break each, so any line-end style gives the same numbers. */
function countLineBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) n++;
  }
  return n;
}

/** Maps offsets to 1-based line numbers; offsets must be asked for in non-decreasing order. */
class LineCounter {
  private pos = 0;
  private line = 1;
  constructor(private readonly text: string) {}
  lineAt(offset: number): number {
    if (offset < this.pos) throw new Error('LineCounter offsets must not go backwards');
    this.line += countLineBreaks(this.text, this.pos, offset);
    this.pos = offset;
    return this.line;
  }
}

function nextLineStart(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) return i + 1;
    if (c === 13) return text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
  }
  return text.length;
}

/** Whether the row text between start and stop (minus its own line end) contains a line break. */
function spansLineBreak(text: string, start: number, stop: number): boolean {
  let end = stop;
  if (end > start && text.charCodeAt(end - 1) === 10) end--;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return true;
  }
  return false;
}

function quoteProblem(error: Papa.ParseError, line: number, delimiter: Delimiter): string {
  if (error.code === 'MissingQuotes') {
    return (
      `The row on line ${line} opens a quoted field (") that is never closed. ` +
      'The line was skipped and reading went on with the next line; close the quote, or double any quote inside a quoted text ("").'
    );
  }
  return (
    `The row on line ${line} has a quoted field that is not closed properly: a quote (") is followed by other text instead of a ${DELIMITER_NAMES[delimiter]} or a line end. ` +
    'The line was skipped and reading went on with the next line; write quotes inside a quoted text as two quotes ("").'
  );
}

function widthProblem(got: number, width: number, columns: string[], delimiter: Delimiter): string {
  const name = DELIMITER_NAMES[delimiter];
  const cols = columns.length <= 6 ? ` (${columns.join(', ')})` : '';
  const base = `This row has ${countOf(got, 'field')}, but the table has ${countOf(width, 'column')}${cols}.`;
  return got > width
    ? `${base} If a text contains a ${name}, put that text in double quotes.`
    : `${base} A value or a ${name} may be missing.`;
}

/** Makes header names unique and non-empty; `width` may cut trailing empty names. */
function makeColumnNames(header: string[], width: number): { names: string[]; warnings: string[] } {
  const raw = Array.from({ length: width }, (_, i) => (header[i] ?? '').trim());
  const warnings: string[] = [];
  const used = new Set(raw.filter((n) => n !== ''));
  const seen = new Map<string, number>();
  const renamed: string[] = [];
  const unnamed: string[] = [];
  const names = raw.map((name, i) => {
    if (name === '') {
      let candidate = `column_${i + 1}`;
      for (let k = 2; used.has(candidate); k++) candidate = `column_${i + 1}_${k}`;
      used.add(candidate);
      unnamed.push(candidate);
      return candidate;
    }
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    if (n === 1) return name;
    let k = n;
    let candidate = `${name}_${k}`;
    while (used.has(candidate)) candidate = `${name}_${++k}`;
    used.add(candidate);
    renamed.push(`"${name}" → "${candidate}"`);
    return candidate;
  });
  if (renamed.length > 0) {
    warnings.push(`Some column names appear more than once, so later copies were renamed: ${renamed.join(', ')}.`);
  }
  if (unnamed.length > 0) {
    warnings.push(`Some columns have no name in the header and were named ${unnamed.join(', ')}.`);
  }
  return { names, warnings };
}

function generatedNames(width: number): string[] {
  return Array.from({ length: width }, (_, i) => `column_${i + 1}`);
}

/** Column names people commonly use in labeled-text CSVs. */
const KNOWN_COLUMN_NAMES = new Set([
  'text', 'texts', 'sentence', 'sentence1', 'sentence2', 'content', 'body', 'message', 'msg', 'review', 'comment',
  'tweet', 'question', 'document', 'doc', 'title', 'input', 'prompt', 'utterance', 'query', 'description',
  'label', 'labels', 'class', 'category', 'target', 'y', 'sentiment', 'intent', 'topic', 'emotion', 'tag',
  'split', 'task', 'id', 'name', 'source', 'output', 'answer', 'rating', 'score', 'fold', 'language', 'lang',
  'date', 'x', 'label_text', 'label_name', 'text_a', 'text_b', 'premise', 'hypothesis', 'context',
]);

/**
 * A first row is a header when its values look like names (non-numeric, short, one line) and
 * differ in kind from the data below: known column names, a name above numbers, a short name
 * above long texts, a name above a handful of repeated categories. Any value that also occurs
 * in its own column's data, or is as long as an ordinary text there, means it is data.
 */
export function looksLikeHeader(first: string[], data: string[][]): boolean {
  const names = first.map((v) => v.trim());
  const named = names.filter((n) => n !== '');
  if (named.length === 0) return false;
  if (named.some((n) => isNumeric(n) || n.length > 100 || /[\r\n]/.test(n) || !/\p{L}/u.test(n))) return false;
  const unique = new Set(named.map((n) => n.toLowerCase())).size === named.length;
  if (data.length === 0) return unique && named.length === names.length;

  let votes = unique ? 0 : -1;
  for (let j = 0; j < names.length; j++) {
    const h = names[j];
    if (h === '') continue;
    if (KNOWN_COLUMN_NAMES.has(h.toLowerCase().replace(/[\s-]+/g, '_'))) votes++;
    const values: string[] = [];
    for (const r of data) {
      const v = (r[j] ?? '').trim();
      if (v !== '') values.push(v);
    }
    if (values.length === 0) continue;
    if (values.includes(h)) return false;
    const numeric = values.filter(isNumeric).length;
    if (numeric / values.length >= 0.8) {
      votes += 2;
      continue;
    }
    const lengths = values.map((v) => v.length).sort((a, b) => a - b);
    const median = lengths[Math.floor(lengths.length / 2)];
    const p25 = lengths[Math.floor(lengths.length / 4)];
    if (median >= 20) {
      if (h.length * 2 <= median && h.length <= 40) votes++;
      // A first value that is itself text-length and within the column's usual range is data;
      // a short one over a column that mixes long and short texts proves nothing either way.
      else if (h.length >= 20 && h.length >= p25) return false;
    } else if (values.length >= 4 && new Set(values).size <= values.length / 2) {
      votes++;
    }
  }
  return votes >= 1;
}

function isNumeric(v: string): boolean {
  return /^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?%?$/.test(v.trim());
}

function countOf(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
