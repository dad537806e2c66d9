import { describe, expect, it } from 'vitest';
import { decodeBytes, decodeWindows1252 } from '../../src/data/decode';
import { parseCsv } from '../../src/data/csv';
import { createRng } from '../../src/data/random';
import { studioErrorOf, utf8 } from './helpers';

function utf16(text: string, littleEndian: boolean, bom: boolean): Uint8Array {
  const out = new Uint8Array((text.length + (bom ? 1 : 0)) * 2);
  let p = 0;
  const put = (u: number) => {
    out[p++] = littleEndian ? u & 0xff : u >> 8;
    out[p++] = littleEndian ? u >> 8 : u & 0xff;
  };
  if (bom) put(0xfeff);
  for (let i = 0; i < text.length; i++) put(text.charCodeAt(i));
  return out;
}

const SAMPLE = 'text,label\r\nCafé crème 😀,good\r\n"naïve, but ""fine""",bad\r\n';

describe('decodeBytes', () => {
  it('decodes plain UTF-8 without warnings', () => {
    const d = decodeBytes(utf8(SAMPLE));
    expect(d).toEqual({ text: SAMPLE, encoding: 'utf-8', warnings: [] });
  });

  it('strips a UTF-8 BOM so the first column name is clean', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(SAMPLE)]);
    const d = decodeBytes(bytes);
    expect(d.text).toBe(SAMPLE);
    expect(d.encoding).toBe('utf-8');
    const t = parseCsv(d.text);
    expect(t.columns).toEqual(['text', 'label']);
  });

  it('accepts an ArrayBuffer too', () => {
    const bytes = utf8(SAMPLE);
    const buffer = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(buffer).set(bytes);
    expect(decodeBytes(buffer).text).toBe(SAMPLE);
  });

  it('decodes UTF-16 LE with BOM, including astral characters', () => {
    const d = decodeBytes(utf16(SAMPLE, true, true));
    expect(d.encoding).toBe('utf-16le');
    expect(d.text).toBe(SAMPLE);
    const t = parseCsv(d.text);
    expect(t.rows).toEqual([
      ['Café crème 😀', 'good'],
      ['naïve, but "fine"', 'bad'],
    ]);
    expect(t.problems).toEqual([]);
  });

  it('decodes UTF-16 BE with BOM', () => {
    const d = decodeBytes(utf16(SAMPLE, false, true));
    expect(d.encoding).toBe('utf-16be');
    expect(d.text).toBe(SAMPLE);
  });

  it('detects UTF-16 without a BOM from the zero-byte pattern', () => {
    expect(decodeBytes(utf16(SAMPLE, true, false))).toMatchObject({ encoding: 'utf-16le', text: SAMPLE });
    expect(decodeBytes(utf16(SAMPLE, false, false))).toMatchObject({ encoding: 'utf-16be', text: SAMPLE });
  });

  it('falls back to Windows-1252 for Latin-1 bytes and says so', () => {
    // "café,pos\nnaïve,neg\n" in Latin-1: é = 0xE9, ï = 0xEF; 0x92 is a cp1252 apostrophe.
    const bytes = new Uint8Array([
      ...utf8('text,label\ncaf'), 0xe9, ...utf8(',pos\nna'), 0xef, ...utf8('ve it'), 0x92, ...utf8('s,neg\n'),
    ]);
    const d = decodeBytes(bytes);
    expect(d.encoding).toBe('windows-1252');
    expect(d.text).toBe('text,label\ncafé,pos\nnaïve it’s,neg\n');
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/not valid UTF-8/);
    expect(d.warnings[0]).toMatch(/Windows-1252/);
    expect(d.warnings[0]).toMatch(/position 14/);
    expect(parseCsv(d.text).rows).toEqual([
      ['café', 'pos'],
      ['naïve it’s', 'neg'],
    ]);
  });

  it('keeps UTF-8 text intact when only a few stray bytes are Latin-1', () => {
    const bytes = new Uint8Array([...utf8('text,label\ncrème 😀,pos\ncaf'), 0xe9, ...utf8(',neg\n')]);
    const d = decodeBytes(bytes);
    expect(d.encoding).toBe('utf-8');
    expect(d.text).toBe('text,label\ncrème 😀,pos\ncafé,neg\n');
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/UTF-8 except for 1 byte/);
  });

  it('maps the whole windows-1252 upper half per WHATWG', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const s = decodeWindows1252(all);
    expect(s.length).toBe(256);
    expect(s.charCodeAt(0x41)).toBe(0x41);
    expect(s[0x80]).toBe('€');
    expect(s[0x93]).toBe('“');
    expect(s.charCodeAt(0x81)).toBe(0x81);
    expect(s[0xe9]).toBe('é');
    expect(s[0xff]).toBe('ÿ');
  });

  it('rejects a PNG (header + random bytes) as binary', () => {
    const rng = createRng(5);
    const bytes = new Uint8Array(4096);
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    for (let i = 16; i < bytes.length; i++) bytes[i] = rng.nextUint32() & 0xff;
    const err = studioErrorOf(() => decodeBytes(bytes), 'csv');
    expect(err.message).toMatch(/^This file looks binary \(.*PNG.*\), not a CSV\./);
    expect(err.hint).toBeTruthy();
  });

  it('rejects unknown binary data by NUL bytes or control characters', () => {
    const rng = createRng(9);
    const random = new Uint8Array(2000).map(() => rng.nextUint32() & 0xff);
    random[0] = 0x41; // no known magic number
    expect(studioErrorOf(() => decodeBytes(random), 'csv').message).toMatch(/^This file looks binary \(/);

    const controls = new Uint8Array(1000).map((_, i) => (i % 3 === 0 ? 0x01 : 0x61));
    expect(studioErrorOf(() => decodeBytes(controls), 'csv').message).toMatch(/control codes/);
  });

  it('points Excel users to CSV export for .xlsx (ZIP) files', () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0]);
    const err = studioErrorOf(() => decodeBytes(zip), 'csv');
    expect(err.message).toMatch(/looks binary/);
    expect(`${err.message} ${err.hint}`).toMatch(/Excel/);
  });

  it('removes rare NUL characters far into a text file, with a warning', () => {
    const text = 'text,label\n' + 'some ordinary text,a\n'.repeat(600);
    const bytes = utf8(text + 'bro\u0000ken,b\n');
    const d = decodeBytes(bytes);
    expect(d.text.endsWith('broken,b\n')).toBe(true);
    expect(d.warnings.some((w) => /NUL/.test(w))).toBe(true);
  });

  it('notes C1 control characters (cp1252 mojibake) but keeps the text', () => {
    const d = decodeBytes(utf8('text,label\nthat\u0092s it,a\n'));
    expect(d.text).toContain('that\u0092s');
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/U\+0080/);
  });

  it('gives empty text for an empty file, which the parser rejects as empty', () => {
    const d = decodeBytes(new Uint8Array(0));
    expect(d.text).toBe('');
    expect(studioErrorOf(() => parseCsv(d.text), 'csv').message).toMatch(/empty/);
    expect(studioErrorOf(() => parseCsv('\uFEFF \r\n\n  '), 'csv').message).toMatch(/empty/);
  });
});
