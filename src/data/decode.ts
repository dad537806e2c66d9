import { StudioError } from '../errors';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
  /** Plain-language notes for the user, e.g. that a fallback encoding was used. */
  warnings: string[];
}

/** Bytes inspected by the sniffing heuristics; enough to be representative, cheap on 50 MB. */
const SNIFF_BYTES = 64 * 1024;
/** Like git: a NUL in the first 8000 bytes means binary. */
const NUL_SNIFF_BYTES = 8000;
/** Share of C0 control characters (other than tab, line ends, VT, FF and ESC) above which we call it binary. */
const MAX_CONTROL_SHARE = 0.1;

const SAVE_AS_CSV = 'Save or export your data as a CSV file (UTF-8) and upload that.';

/**
 * Turns the bytes of an uploaded file into text. Handles UTF-8 (with or without BOM),
 * UTF-16 LE/BE (BOM or detected from the zero-byte pattern) and falls back to
 * Windows-1252 when the bytes are not valid UTF-8. Binary files are rejected.
 * Only the 'utf-8' and 'utf-16le' TextDecoder labels are used (Windows-1252 is mapped by
 * hand, UTF-16 BE is byte-swapped), because Node builds without ICU support no others.
 */
export function decodeBytes(input: Uint8Array | ArrayBuffer): DecodedText {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const warnings: string[] = [];

  rejectKnownBinaryFormats(bytes);

  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) {
    return finishUtf8(bytes.subarray(3), warnings);
  }
  if (startsWith(bytes, [0xff, 0xfe])) {
    return finishUtf16(bytes.subarray(2), true, warnings);
  }
  if (startsWith(bytes, [0xfe, 0xff])) {
    return finishUtf16(bytes.subarray(2), false, warnings);
  }
  const guessed = guessUtf16WithoutBom(bytes);
  if (guessed) return finishUtf16(bytes, guessed === 'utf-16le', warnings);

  return finishUtf8(bytes, warnings);
}

function finishUtf8(bytes: Uint8Array, warnings: string[]): DecodedText {
  rejectBinaryBytes(bytes);
  let text: string;
  let encoding: TextEncodingName = 'utf-8';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const lenient = decodeUtf8OrWindows1252(bytes);
    text = lenient.text;
    if (lenient.multibyte === 0) {
      encoding = 'windows-1252';
      warnings.push(
        `The file is not valid UTF-8 (the first bad byte is at position ${lenient.firstInvalid}), so it was read as ` +
          'Windows-1252 (Western European, a superset of Latin-1). If accented letters or symbols look ' +
          'wrong, save the file as "CSV UTF-8" and upload it again.',
      );
    } else {
      warnings.push(
        `The file is UTF-8 except for ${lenient.invalid === 1 ? '1 byte' : `${lenient.invalid} bytes`} (the first at position ${lenient.firstInvalid}), ` +
          'typical of text pasted together from different sources; those bytes were read as Windows-1252 (e.g. 0xE9 as "é"). ' +
          'Check those characters, or save the file as "CSV UTF-8" and upload it again.',
      );
    }
  }
  text = stripNuls(text, warnings);
  noteC1Controls(text, warnings);
  return { text, encoding, warnings };
}

/**
 * Decodes valid UTF-8 sequences as UTF-8 and every byte that is not part of one as Windows-1252.
 * For a Latin-1 file this equals plain Windows-1252 decoding; for a UTF-8 file with a few stray
 * Latin-1 bytes it keeps the UTF-8 text intact instead of turning every "é" into "Ã©".
 */
function decodeUtf8OrWindows1252(bytes: Uint8Array): { text: string; invalid: number; firstInvalid: number; multibyte: number } {
  // Never more UTF-16 units than bytes: 4-byte sequences become 2 units, everything else 1.
  const out = new Uint16Array(bytes.length);
  let k = 0;
  let invalid = 0;
  let firstInvalid = -1;
  let multibyte = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      out[k++] = b;
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    let cp = need > 0 && i + need < bytes.length ? b & (0x3f >> need) : -1;
    for (let j = 1; cp >= 0 && j <= need; j++) {
      const c = bytes[i + j];
      cp = (c & 0xc0) === 0x80 ? (cp << 6) | (c & 0x3f) : -1;
    }
    const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      out[k++] = b <= 0x9f ? CP1252_HIGH[b - 0x80] : b;
      if (firstInvalid < 0) firstInvalid = i;
      invalid++;
      i++;
      continue;
    }
    if (cp >= 0x10000) {
      out[k++] = 0xd800 + ((cp - 0x10000) >> 10);
      out[k++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    } else {
      out[k++] = cp;
    }
    multibyte++;
    i += need + 1;
  }
  return { text: unitsToString(out.subarray(0, k)), invalid, firstInvalid, multibyte };
}

function finishUtf16(bytes: Uint8Array, littleEndian: boolean, warnings: string[]): DecodedText {
  let body = bytes;
  if (body.length % 2 === 1) {
    body = body.subarray(0, body.length - 1);
    warnings.push('The UTF-16 file has an odd number of bytes; the incomplete last byte was ignored.');
  }
  if (!littleEndian) {
    // 'utf-16le' is the one UTF-16 label every TextDecoder supports (Node without ICU included),
    // so big-endian input is byte-swapped into a copy rather than relying on 'utf-16be'.
    const swapped = new Uint8Array(body.length);
    for (let i = 0; i < body.length; i += 2) {
      swapped[i] = body[i + 1];
      swapped[i + 1] = body[i];
    }
    body = swapped;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    text = new TextDecoder('utf-16le', { ignoreBOM: true }).decode(body);
    warnings.push('Some characters in the UTF-16 file were broken (unpaired surrogates); they were replaced with "\ufffd".');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  rejectBinaryText(text);
  text = stripNuls(text, warnings);
  noteC1Controls(text, warnings);
  return { text, encoding: littleEndian ? 'utf-16le' : 'utf-16be', warnings };
}

/**
 * UTF-16 files saved without a BOM (some Windows tools) show up as text where every other
 * byte is zero. ASCII-heavy text gives zeros at odd offsets (LE) or even offsets (BE).
 */
function guessUtf16WithoutBom(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const n = Math.min(bytes.length, SNIFF_BYTES) & ~1;
  if (n < 4) return null;
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) zeroEven++;
    if (bytes[i + 1] === 0) zeroOdd++;
  }
  const pairs = n / 2;
  if (zeroOdd / pairs > 0.3 && zeroEven / pairs < 0.05) return 'utf-16le';
  if (zeroEven / pairs > 0.3 && zeroOdd / pairs < 0.05) return 'utf-16be';
  return null;
}

function rejectKnownBinaryFormats(bytes: Uint8Array): void {
  const known: [number[], string, string][] = [
    [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'it is a PNG image', SAVE_AS_CSV],
    [[0xff, 0xd8, 0xff], 'it is a JPEG image', SAVE_AS_CSV],
    [[0x47, 0x49, 0x46, 0x38], 'it is a GIF image', SAVE_AS_CSV],
    [[0x25, 0x50, 0x44, 0x46, 0x2d], 'it is a PDF document', SAVE_AS_CSV],
    [[0x1f, 0x8b], 'it is gzip-compressed', 'Unpack it first and upload the .csv file inside.'],
    [
      [0x50, 0x4b, 0x03, 0x04],
      'it is a ZIP archive; Excel .xlsx workbooks are ZIP archives',
      'In Excel use File > Save As > "CSV UTF-8 (Comma delimited)" and upload the .csv file; if it is a .zip, unpack it first.',
    ],
    [
      [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
      'it is an old-style Excel .xls or Office document',
      'In Excel use File > Save As > "CSV UTF-8 (Comma delimited)" and upload the .csv file.',
    ],
  ];
  for (const [magic, what, hint] of known) {
    if (startsWith(bytes, magic)) throw binaryError(what, hint);
  }
  if (startsWith(bytes, [0xff, 0xfe, 0x00, 0x00]) || startsWith(bytes, [0x00, 0x00, 0xfe, 0xff])) {
    throw new StudioError(
      'csv',
      'This file is encoded as UTF-32, which is not supported.',
      'Save it as "CSV UTF-8" (or UTF-16) and upload it again.',
    );
  }
}

function rejectBinaryBytes(bytes: Uint8Array): void {
  const nulEnd = Math.min(bytes.length, NUL_SNIFF_BYTES);
  for (let i = 0; i < nulEnd; i++) {
    if (bytes[i] === 0) throw binaryError('it contains NUL bytes', SAVE_AS_CSV);
  }
  const n = Math.min(bytes.length, SNIFF_BYTES);
  let control = 0;
  let nul = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0) nul++;
    if (isBinaryControl(b)) control++;
  }
  checkControlShare(control, n);
  // NULs past the first 8000 bytes are tolerated in small numbers (stripped later), but a
  // file where they are common is binary with a text-looking header.
  if (nul > 0) {
    let total = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0) total++;
    if (total / bytes.length > 0.001) throw binaryError('it contains many NUL bytes', SAVE_AS_CSV);
  }
}

function rejectBinaryText(text: string): void {
  const n = Math.min(text.length, SNIFF_BYTES);
  let control = 0;
  let nul = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) nul++;
    if (isBinaryControl(c)) control++;
  }
  if (nul > 0 && nul / Math.max(1, n) > 0.001) {
    throw binaryError('it contains NUL characters', SAVE_AS_CSV);
  }
  checkControlShare(control, n);
}

function checkControlShare(control: number, n: number): void {
  if (n > 0 && control / n > MAX_CONTROL_SHARE) {
    const pct = Math.round((100 * control) / n);
    throw binaryError(`${pct}% of its first characters are control codes`, SAVE_AS_CSV);
  }
}

/** C0 controls that never occur in real text files (tab, LF, VT, FF, CR and ESC are allowed). */
function isBinaryControl(c: number): boolean {
  return (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0b && c !== 0x0c && c !== 0x0d && c !== 0x1b) || c === 0x7f;
}

function binaryError(why: string, hint: string): StudioError {
  return new StudioError('csv', `This file looks binary (${why}), not a CSV. A CSV file is plain text.`, hint);
}

function stripNuls(text: string, warnings: string[]): string {
  if (text.indexOf('\u0000') === -1) return text;
  let count = 0;
  const cleaned = text.replace(/\u0000/g, () => {
    count++;
    return '';
  });
  warnings.push(`The file contained ${count} NUL character${count === 1 ? '' : 's'} (a sign of corruption); they were removed.`);
  return cleaned;
}

/**
 * C1 controls (U+0080–U+009F) in decoded text almost always mean Windows-1252 punctuation that
 * was stored as Latin-1 code points (e.g. U+0092 for a curly apostrophe). We keep the text as it
 * is — the user's data is theirs — but say so, because the model sees these as odd characters.
 */
function noteC1Controls(text: string, warnings: string[]): void {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 && c <= 0x9f) count++;
  }
  if (count > 0) {
    warnings.push(
      `The text contains ${count} invisible control character${count === 1 ? '' : 's'} in the range U+0080–U+009F. ` +
        'These are usually curly quotes or dashes from Windows-1252 that were saved wrongly (e.g. "that\\u0092s" for "that’s"). ' +
        'They were kept as they are; fix them in the source file if they matter.',
    );
  }
}

/** WHATWG windows-1252 mapping of 0x80–0x9F; the five undefined bytes map to the C1 code point. */
const CP1252_HIGH = [
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d,
  0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0x009d, 0x017e, 0x0178,
];

export function decodeWindows1252(bytes: Uint8Array): string {
  const units = new Uint16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    units[i] = b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] : b;
  }
  return unitsToString(units);
}

function unitsToString(units: Uint16Array): string {
  // Chunked because String.fromCharCode(...units) has an argument-count limit.
  const CHUNK = 8192;
  const parts: string[] = [];
  for (let start = 0; start < units.length; start += CHUNK) {
    parts.push(String.fromCharCode(...units.subarray(start, Math.min(units.length, start + CHUNK))));
  }
  return parts.join('');
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}
