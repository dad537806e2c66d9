/**
 * Text <-> token ids for the engine, over @huggingface/tokenizers (tokenizer.json).
 *
 * Two choices differ from calling the library directly, both to match SentencePiece:
 * - Text is taken literally: "<s>" typed in a CSV cell is three characters, not BOS.
 *   Callers add BOS/EOS by id. (The library would otherwise split special tokens out of
 *   the text and also restart the dummy-prefix "▁" after each one.)
 * - Decoding does not "clean up" spaces before punctuation unless the config asks for it.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { StudioError } from '../errors';

export interface EncodeOptions {
  /**
   * Put the BOS id first, when the tokenizer has one (GPT-2's does not). Default false:
   * the caller assembles special tokens itself.
   */
  addBos?: boolean;
}

export interface DecodeOptions {
  /** Leave out BOS, EOS, unknown and other special tokens. Default true, as SentencePiece does. */
  skipSpecialTokens?: boolean;
}

type Json = Record<string, unknown>;

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

// Names used when neither the config nor the post-processor says which token is which.
const BOS_NAMES = ['<s>', '<|begin_of_text|>', '<bos>', '<|startoftext|>'];
const EOS_NAMES = ['</s>', '<|end_of_text|>', '<eos>', '<|endoftext|>'];

function unusable(detail: string): StudioError {
  return new StudioError(
    'tokenizer',
    `This tokenizer.json cannot be used: ${detail}.`,
    'Use the tokenizer.json published with the model.',
  );
}

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export class TextTokenizer {
  /** One past the largest id: the number of rows the embedding matrix needs. */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly unkId: number | null;

  private constructor(
    private readonly inner: Tokenizer,
    private readonly specialIds: ReadonlySet<number>,
    private readonly byteLevel: boolean,
    private readonly cleanUpSpaces: boolean,
    ids: { vocabSize: number; bos: number | null; eos: number | null; unk: number | null },
  ) {
    this.vocabSize = ids.vocabSize;
    this.bosId = ids.bos;
    this.eosId = ids.eos;
    this.unkId = ids.unk;
  }

  /** From a parsed tokenizer.json (and tokenizer_config.json, when there is one). */
  static fromJson(tokenizerJson: object, tokenizerConfig: object = {}): TextTokenizer {
    if (!isObject(tokenizerJson)) throw unusable('it is not a JSON object');
    if (!isObject(tokenizerJson.model)) throw unusable('it has no "model"');
    const config: Json = isObject(tokenizerConfig) ? tokenizerConfig : {};
    const added = tokenizerJson.added_tokens ?? [];
    if (!Array.isArray(added) || !added.every((t) => isObject(t) && typeof t.content === 'string' && Number.isInteger(t.id))) {
      throw unusable('"added_tokens" is not a list of tokens with content and id');
    }
    const addedTokens = added as { content: string; id: number; special?: boolean }[];
    const model = tokenizerJson.model;

    // Special tokens the model vocabulary already holds can leave the added-token list, so
    // the library stops matching their text; the rest must stay for their ids to decode.
    const specialIds = new Set(addedTokens.filter((t) => t.special).map((t) => t.id));
    const keptAdded = addedTokens.filter((t) => !t.special || modelVocabId(model, t.content) !== t.id);
    const json: Json = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      ...tokenizerJson,
      added_tokens: keptAdded,
    };

    let inner: Tokenizer;
    try {
      inner = new Tokenizer(json, config);
    } catch (e) {
      throw unusable(e instanceof Error ? e.message : String(e));
    }

    const vocab = inner.get_vocab(true);
    if (vocab.size === 0) throw unusable('its vocabulary is empty');
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    for (const t of addedTokens) maxId = Math.max(maxId, t.id);

    const idOf = (token: string | null): number | null => {
      if (token === null) return null;
      return inner.token_to_id(token) ?? addedTokens.find((t) => t.content === token)?.id ?? null;
    };
    const special = addedTokens.filter((t) => t.special).map((t) => t.content);
    const byName = (names: string[]): string | null => names.find((n) => special.includes(n)) ?? null;
    const bos = idOf(configToken(config.bos_token) ?? templateBos(tokenizerJson.post_processor) ?? byName(BOS_NAMES));
    const eos = idOf(configToken(config.eos_token) ?? byName(EOS_NAMES));
    const unkToken = typeof model.unk_token === 'string' ? model.unk_token : configToken(config.unk_token);
    const unk = idOf(unkToken);

    return new TextTokenizer(inner, specialIds, hasByteLevelDecoder(tokenizerJson.decoder), config.clean_up_tokenization_spaces === true, {
      vocabSize: maxId + 1,
      bos,
      eos,
      unk,
    });
  }

  /** Token ids of `text`, taken literally (special-token text is not parsed). */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids = this.inner.encode(text, { add_special_tokens: false }).ids as (number | undefined)[];
    if (ids.some((id) => id === undefined)) {
      throw new StudioError('tokenizer', 'The text has characters this tokenizer cannot represent, and it has no unknown token.');
    }
    const out = ids as number[];
    return opts.addBos && this.bosId !== null ? [this.bosId, ...out] : out;
  }

  decode(ids: number[], opts: DecodeOptions = {}): string {
    for (const id of ids) this.idToToken(id); // throws on ids outside the vocabulary
    const skip = opts.skipSpecialTokens ?? true;
    const kept = skip ? ids.filter((id) => !this.specialIds.has(id)) : ids;
    // The library refuses an empty list.
    if (kept.length === 0) return '';
    return this.inner.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: this.cleanUpSpaces });
  }

  /** The raw vocabulary entry, e.g. "▁the" or "<0x0A>". */
  idToToken(id: number): string {
    const token = Number.isInteger(id) ? this.inner.id_to_token(id) : undefined;
    if (token === undefined) {
      throw new StudioError('tokenizer', `Token id ${id} is not in the vocabulary (0 to ${this.vocabSize - 1}).`);
    }
    return token;
  }

  /** BOS, EOS, unknown, padding and other control tokens: those decode() skips by default. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The id of a raw vocabulary entry, or null. */
  tokenToId(token: string): number | null {
    return this.inner.token_to_id(token) ?? null;
  }

  /**
   * A token as a person reads it: "▁the" -> " the", "<0x0A>" -> "⏎", "<0x41>" -> "A";
   * bytes that are only part of a character stay as "<0xE2>".
   */
  displayToken(id: number): string {
    const token = this.idToToken(id);
    if (this.specialIds.has(id)) return token;
    const byte = BYTE_PIECE.exec(token);
    if (byte) return displayByte(parseInt(byte[1], 16)) ?? token;
    const text = this.byteLevel
      ? this.inner.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false })
      : token.replaceAll('\u2581', ' ');
    return text.replaceAll('\n', '\u23CE').replaceAll('\t', '\u21E5');
  }
}

function displayByte(b: number): string | null {
  if (b === 0x0a) return '\u23CE';
  if (b === 0x09) return '\u21E5';
  if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b);
  return null;
}

/** The id a model vocabulary gives `content`: BPE/WordPiece map token -> id, Unigram lists [token, score]. */
function modelVocabId(model: Json, content: string): number | undefined {
  const vocab = model.vocab;
  if (Array.isArray(vocab)) {
    const i = vocab.findIndex((entry) => Array.isArray(entry) && entry[0] === content);
    return i < 0 ? undefined : i;
  }
  if (isObject(vocab) && Object.hasOwn(vocab, content)) {
    const id = vocab[content];
    return typeof id === 'number' ? id : undefined;
  }
  return undefined;
}

/** tokenizer_config.json names tokens as strings or as serialized AddedTokens. */
function configToken(x: unknown): string | null {
  if (typeof x === 'string') return x;
  if (isObject(x) && typeof x.content === 'string') return x.content;
  return null;
}

/** The special token a TemplateProcessing post-processor puts before $A, if any. */
function templateBos(postProcessor: unknown): string | null {
  if (!isObject(postProcessor) || postProcessor.type !== 'TemplateProcessing') return null;
  const first = Array.isArray(postProcessor.single) ? postProcessor.single[0] : undefined;
  if (!isObject(first) || !isObject(first.SpecialToken)) return null;
  const id = first.SpecialToken.id;
  return typeof id === 'string' ? id : null;
}

function hasByteLevelDecoder(decoder: unknown): boolean {
  if (!isObject(decoder)) return false;
  if (decoder.type === 'ByteLevel') return true;
  return decoder.type === 'Sequence' && Array.isArray(decoder.decoders) && decoder.decoders.some(hasByteLevelDecoder);
}
