/**
 * SentencePiece `.model` files, and their conversion to a Hugging Face `tokenizer.json`.
 *
 * A `.model` file is a serialized `sentencepiece.ModelProto` (sentencepiece_model.proto,
 * proto2). We read only the fields encoding needs, with a small wire-format reader (no
 * protobuf dependency). Used by scripts/setup-default-model.ts and the tests; the studio
 * itself only loads the tokenizer.json this writes.
 *
 * The conversion follows transformers' convert_slow_tokenizer.py (SpmConverter /
 * LlamaConverter) for BPE models, and adds what that converter leaves out for Llama
 * (whose model disables it): `remove_extra_whitespaces`, which the llama2.c tokenizers keep on.
 */
import { StudioError } from '../../src/errors';

// ---------------------------------------------------------------------------------------
// Model proto, as far as we use it

/** SentencePiece.Type in the proto. */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** TrainerSpec.ModelType in the proto. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;
export type ModelType = (typeof ModelType)[keyof typeof ModelType];

export interface SentencePiece {
  piece: string;
  score: number;
  type: PieceType;
}

/** The TrainerSpec fields that shape encoding; each defaults as proto2 declares it. */
export interface TrainerSpec {
  modelType: ModelType;
  vocabSize: number;
  byteFallback: boolean;
  splitDigits: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  /** -1 when the model has no padding piece. */
  padId: number;
  unkPiece: string;
  bosPiece: string;
  eosPiece: string;
  padPiece: string;
  /** What SentencePiece's decoder prints for the unknown piece (" ⁇ "). */
  unkSurface: string;
}

export interface NormalizerSpec {
  /** "identity", "nmt_nfkc", ...: the rule set the charsmap was compiled from. */
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SentencePieceModel {
  /** Indexed by token id. */
  pieces: SentencePiece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
}

/** The escaped space, U+2581, that SentencePiece writes for ' '. */
export const SPACE_SYMBOL = '\u2581';

// ---------------------------------------------------------------------------------------
// Protobuf wire format

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

function malformed(detail: string): StudioError {
  return new StudioError(
    'tokenizer',
    `This is not a valid SentencePiece .model file (${detail}).`,
    'Choose the tokenizer.model or tok*.model file that came with the model.',
  );
}

// ignoreBOM: a piece may be U+FEFF itself, which a default TextDecoder would drop.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class WireReader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The low 32 bits of a varint; proto int32 fields sign-extend to 10 bytes, `| 0` undoes it. */
  varint(): number {
    let result = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw malformed('a number is cut off');
      const b = this.bytes[this.pos++];
      if (i < 5) result |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return result >>> 0;
    }
    throw malformed('a number is longer than 10 bytes');
  }

  /** [field number, wire type]. */
  tag(): [number, number] {
    const key = this.varint();
    const field = key >>> 3;
    if (field === 0) throw malformed('field number 0');
    return [field, key & 7];
  }

  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.pos) throw malformed('the file is cut off');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  int32(wire: number): number {
    expectWire(wire, WIRE_VARINT);
    return this.varint() | 0;
  }

  bool(wire: number): boolean {
    expectWire(wire, WIRE_VARINT);
    return this.varint() !== 0;
  }

  float(wire: number): number {
    expectWire(wire, WIRE_FIXED32);
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
  }

  bytesField(wire: number): Uint8Array {
    expectWire(wire, WIRE_LEN);
    return this.take(this.varint());
  }

  string(wire: number): string {
    try {
      return utf8.decode(this.bytesField(wire));
    } catch (e) {
      if (e instanceof StudioError) throw e;
      throw malformed('a text field is not UTF-8');
    }
  }

  message(wire: number): WireReader {
    return new WireReader(this.bytesField(wire));
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_FIXED64) this.take(8);
    else if (wire === WIRE_LEN) this.take(this.varint());
    else if (wire === WIRE_FIXED32) this.take(4);
    // 3 and 4 are proto2 groups, which sentencepiece_model.proto never uses.
    else throw malformed(`unsupported wire type ${wire}`);
  }
}

function expectWire(actual: number, expected: number): void {
  if (actual !== expected) throw malformed(`wire type ${actual} where ${expected} was expected`);
}

// Field numbers below are those of sentencepiece_model.proto.

function readPiece(r: WireReader): SentencePiece {
  const p: SentencePiece = { piece: '', score: 0, type: PieceType.NORMAL };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) p.piece = r.string(wire);
    else if (field === 2) p.score = r.float(wire);
    else if (field === 3) {
      const t = r.int32(wire);
      if (t < PieceType.NORMAL || t > PieceType.BYTE) throw malformed(`unknown piece type ${t}`);
      p.type = t as PieceType;
    } else r.skip(wire);
  }
  return p;
}

function readTrainerSpec(r: WireReader): TrainerSpec {
  const s: TrainerSpec = {
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    byteFallback: false,
    splitDigits: false,
    treatWhitespaceAsSuffix: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: '<unk>',
    bosPiece: '<s>',
    eosPiece: '</s>',
    padPiece: '<pad>',
    unkSurface: ' \u2047 ',
  };
  while (!r.done) {
    const [field, wire] = r.tag();
    switch (field) {
      case 3: {
        const t = r.int32(wire);
        if (t < ModelType.UNIGRAM || t > ModelType.CHAR) throw malformed(`unknown model type ${t}`);
        s.modelType = t as ModelType;
        break;
      }
      case 4: s.vocabSize = r.int32(wire); break;
      case 24: s.treatWhitespaceAsSuffix = r.bool(wire); break;
      case 25: s.splitDigits = r.bool(wire); break;
      case 35: s.byteFallback = r.bool(wire); break;
      case 40: s.unkId = r.int32(wire); break;
      case 41: s.bosId = r.int32(wire); break;
      case 42: s.eosId = r.int32(wire); break;
      case 43: s.padId = r.int32(wire); break;
      case 44: s.unkSurface = r.string(wire); break;
      case 45: s.unkPiece = r.string(wire); break;
      case 46: s.bosPiece = r.string(wire); break;
      case 47: s.eosPiece = r.string(wire); break;
      case 48: s.padPiece = r.string(wire); break;
      default: r.skip(wire);
    }
  }
  return s;
}

function readNormalizerSpec(r: WireReader): NormalizerSpec {
  const s: NormalizerSpec = {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
  while (!r.done) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1: s.name = r.string(wire); break;
      case 2: s.precompiledCharsmap = r.bytesField(wire).slice(); break;
      case 3: s.addDummyPrefix = r.bool(wire); break;
      case 4: s.removeExtraWhitespaces = r.bool(wire); break;
      case 5: s.escapeWhitespaces = r.bool(wire); break;
      default: r.skip(wire);
    }
  }
  return s;
}

/** Parses the bytes of a SentencePiece `.model` file; throws StudioError('tokenizer') if malformed. */
export function parseSentencePieceModel(bytes: Uint8Array): SentencePieceModel {
  if (bytes.length === 0) throw malformed('the file is empty');
  const r = new WireReader(bytes);
  const pieces: SentencePiece[] = [];
  let trainerSpec: TrainerSpec | null = null;
  let normalizerSpec: NormalizerSpec | null = null;
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) pieces.push(readPiece(r.message(wire)));
    else if (field === 2) trainerSpec = readTrainerSpec(r.message(wire));
    else if (field === 3) normalizerSpec = readNormalizerSpec(r.message(wire));
    else r.skip(wire); // 4 self_test_data, 5 denormalizer_spec
  }
  // The trainer writes pieces first and both specs after them, so a file cut short between
  // two fields (which parses cleanly) lacks the normalizer spec at least.
  if (pieces.length === 0) throw malformed('it holds no pieces');
  if (trainerSpec === null || normalizerSpec === null) throw malformed('it is incomplete');
  const model: SentencePieceModel = { pieces, trainerSpec, normalizerSpec };
  validateModel(model);
  return model;
}

// Random bytes can happen to be well-formed protobuf; SentencePiece's own loader rejects
// a model unless these hold, and so do we.
function validateModel({ pieces, trainerSpec }: SentencePieceModel): void {
  const seen = new Set<string>();
  let unknowns = 0;
  for (const p of pieces) {
    if (p.piece === '') throw malformed('a piece is empty');
    if (seen.has(p.piece)) throw malformed(`the piece "${p.piece}" appears twice`);
    seen.add(p.piece);
    if (p.type === PieceType.UNKNOWN) unknowns++;
    if (p.type === PieceType.BYTE && !/^<0x[0-9A-F]{2}>$/.test(p.piece)) {
      throw malformed(`"${p.piece}" is marked as a byte piece`);
    }
  }
  if (unknowns !== 1) throw malformed(`it has ${unknowns} unknown-token pieces, not 1`);
  const unk = pieces[trainerSpec.unkId];
  if (unk === undefined || unk.type !== PieceType.UNKNOWN) throw malformed('unk_id does not name the unknown piece');
}

// ---------------------------------------------------------------------------------------
// Conversion to tokenizer.json

type Json = Record<string, unknown>;

/** One entry of tokenizer.json's `added_tokens`. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The top level of a Hugging Face tokenizer.json (the Rust `tokenizers` serialization). */
export interface TokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: Json | null;
  pre_tokenizer: Json | null;
  post_processor: Json | null;
  decoder: Json | null;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: string;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    /** [left, right] pairs, best first: the pair form survives pieces that contain ' '. */
    merges: [string, string][];
  };
}

/**
 * A tokenizer.json whose encoding equals SentencePiece's for a BPE model
 * (Llama-style: byte fallback, "▁" for spaces, BOS added by the post-processor).
 */
export function sentencePieceToTokenizerJson(model: SentencePieceModel): TokenizerJson {
  const { pieces, trainerSpec: ts, normalizerSpec: ns } = model;
  if (ts.modelType !== ModelType.BPE) {
    const name = Object.keys(ModelType).find((k) => ModelType[k as keyof typeof ModelType] === ts.modelType);
    throw new StudioError(
      'tokenizer',
      `Only SentencePiece BPE tokenizers can be converted; this one is ${name}.`,
      'Provide a tokenizer.json for this model instead.',
    );
  }
  if (ts.treatWhitespaceAsSuffix) {
    throw new StudioError('tokenizer', 'SentencePiece models that put the space after words (treat_whitespace_as_suffix) are not supported.');
  }

  // Object.fromEntries keeps a piece named "__proto__" as data, where vocab[p] = i would not.
  const vocab = Object.fromEntries(pieces.map((p, id) => [p.piece, id])) as Record<string, number>;

  const addedTokens: AddedTokenJson[] = [];
  pieces.forEach((p, id) => {
    const special = p.type === PieceType.CONTROL || p.type === PieceType.UNKNOWN;
    if (special || p.type === PieceType.USER_DEFINED) {
      addedTokens.push({ id, content: p.piece, single_word: false, lstrip: false, rstrip: false, normalized: false, special });
    }
  });

  const unkPiece = pieces[ts.unkId].piece;
  const bos = ts.bosId >= 0 && ts.bosId < pieces.length ? pieces[ts.bosId].piece : null;

  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: normalizerJson(ns),
    // SentencePiece's BPE runs over the whole normalized sentence, so this does too;
    // split_digits and split_by_whitespace only shaped which pieces training made.
    pre_tokenizer: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unkPiece,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      // SentencePiece reports a run of unknown characters as one <unk>.
      fuse_unk: true,
      byte_fallback: ts.byteFallback,
      ignore_merges: false,
      vocab,
      merges: bpeMerges(pieces),
    },
    post_processor: bos === null ? null : bosTemplate(bos, ts.bosId),
    decoder: decoderJson(ns, ts.byteFallback),
  };
}

/**
 * SentencePiece BPE repeatedly merges the adjacent pair whose concatenation is the
 * highest-scoring piece (leftmost on ties); HF BPE merges the pair of lowest rank.
 * Listing every split of every piece into two pieces, best merged piece first, makes the
 * two agree. Splits are by code point, as SentencePiece splits a sentence into characters.
 */
function bpeMerges(pieces: SentencePiece[]): [string, string][] {
  // Control, byte and user-defined pieces never take part in SentencePiece's merging.
  const mergeable = new Map<string, number>();
  pieces.forEach((p, id) => {
    if (p.type === PieceType.NORMAL) mergeable.set(p.piece, id);
  });
  const targets = [...mergeable.values()].sort((a, b) => pieces[b].score - pieces[a].score || a - b);

  const merges: [string, string][] = [];
  for (const id of targets) {
    const chars = Array.from(pieces[id].piece);
    const splits: [string, string, number, number][] = [];
    for (let i = 1; i < chars.length; i++) {
      const left = chars.slice(0, i).join('');
      const right = chars.slice(i).join('');
      const l = mergeable.get(left);
      const r = mergeable.get(right);
      if (l !== undefined && r !== undefined) splits.push([left, right, l, r]);
    }
    // Ties within one merged piece go by the ids of its parts, as transformers' extractor does.
    splits.sort((a, b) => a[2] - b[2] || a[3] - b[3]);
    for (const [left, right] of splits) merges.push([left, right]);
  }
  return merges;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * SentencePiece's normalizer, outside the charsmap, as HF normalizers. With
 * remove_extra_whitespaces it drops leading U+0020 spaces, turns each run of them into one
 * space symbol, and then drops trailing space symbols, including any "▁" typed in the text;
 * no other whitespace (tab, newline, U+00A0, U+3000) is touched. Regexes use \A and \z, not
 * ^ and $, because Oniguruma's ^ and $ also match at every newline.
 */
function normalizerJson(ns: NormalizerSpec): Json | null {
  const space = ns.escapeWhitespaces ? SPACE_SYMBOL : ' ';
  const s = escapeRegex(space);
  const steps: Json[] = [];
  if (ns.precompiledCharsmap.length > 0) {
    steps.push({ type: 'Precompiled', precompiled_charsmap: base64(ns.precompiledCharsmap) });
  }
  const replace = (regex: string, content: string): Json => ({ type: 'Replace', pattern: { Regex: regex }, content });
  if (ns.removeExtraWhitespaces) {
    if (ns.addDummyPrefix) {
      // The prefix goes first so that text of only spaces ends empty in both libraries:
      // tokenizers.js prepends even to an empty string, the Rust library does not.
      steps.push({ type: 'Prepend', prepend: space });
      steps.push(replace(`\\A${s} +`, space));
    } else {
      steps.push(replace('\\A +', ''));
    }
    steps.push(replace(' +', space));
    steps.push(replace(`${s}+\\z`, ''));
  } else {
    if (ns.addDummyPrefix) steps.push({ type: 'Prepend', prepend: space });
    if (ns.escapeWhitespaces) steps.push({ type: 'Replace', pattern: { String: ' ' }, content: space });
  }
  return steps.length === 0 ? null : { type: 'Sequence', normalizers: steps };
}

function decoderJson(ns: NormalizerSpec, byteFallback: boolean): Json {
  const steps: Json[] = [];
  if (ns.escapeWhitespaces) steps.push({ type: 'Replace', pattern: { String: SPACE_SYMBOL }, content: ' ' });
  if (byteFallback) steps.push({ type: 'ByteFallback' });
  steps.push({ type: 'Fuse' });
  // Strip applies to each token; after Fuse there is one, so only the dummy prefix goes.
  if (ns.addDummyPrefix) steps.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
  return { type: 'Sequence', decoders: steps };
}

/** "<s> $A" and "<s> $A <s> $B", as Llama's tokenizer adds BOS. */
function bosTemplate(bos: string, bosId: number): Json {
  const special = { SpecialToken: { id: bos, type_id: 0 } };
  return {
    type: 'TemplateProcessing',
    single: [special, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [special, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
  };
}

/** A tokenizer_config.json to go beside the tokenizer.json, naming the special tokens. */
export function sentencePieceToTokenizerConfig(model: SentencePieceModel): Record<string, unknown> {
  const { pieces, trainerSpec: ts } = model;
  const piece = (id: number): string | null => (id >= 0 && id < pieces.length ? pieces[id].piece : null);
  return {
    tokenizer_class: 'LlamaTokenizerFast',
    bos_token: piece(ts.bosId),
    eos_token: piece(ts.eosId),
    unk_token: piece(ts.unkId),
    pad_token: piece(ts.padId),
    add_bos_token: true,
    add_eos_token: false,
    // SentencePiece's decode does not remove spaces before punctuation.
    clean_up_tokenization_spaces: false,
  };
}

// btoa takes a "binary string"; chunks keep String.fromCharCode's argument list short.
function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
