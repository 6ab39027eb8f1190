import { ENGLISH_WORDS } from "./english-words.js";

/** llama.cpp's llama_token_type values. */
export enum TokenType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  BYTE = 6,
}

export const SPM_SPACE = "\u2581";
export const UNKNOWN_TOKEN_ID = 0;
export const BOS_TOKEN_ID = 1;
export const EOS_TOKEN_ID = 2;
export const FIRST_BYTE_TOKEN_ID = 3;

export interface Vocabulary {
  readonly tokens: readonly string[];
  readonly scores: readonly number[];
  readonly types: readonly TokenType[];
  /**
   * Whole words, suffixes and sentence punctuation: the tokens a synthetic model may generate, so its
   * output reads as words rather than word prefixes, padding or stray bytes. Not stored in the GGUF.
   */
  readonly emittable: readonly boolean[];
}

const SUFFIXES = ["s", "es", "ed", "er", "ers", "ing", "ly", "'s", "n't"];
const EMITTABLE_PUNCTUATION = new Set([".", ",", "!", "?", ":", ";"]);
const PRINTABLE_ASCII = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
const SINGLE_CHAR_SCORE = -1000;
const SUFFIX_SCORE_OFFSET = -100;

/** Smallest vocabulary: control tokens, 256 byte tokens, ▁ and printable ASCII. */
export const MIN_VOCAB_SIZE = 3 + 256 + 1 + PRINTABLE_ASCII.length;
/** Largest vocabulary the padding (CJK ideographs, then Hangul syllables) can fill. */
export const MAX_VOCAB_SIZE = 32768;

/**
 * A SentencePiece-style (llama.cpp "llama" tokenizer) vocabulary with byte fallback. Word pieces come with
 * every prefix, because SPM only merges adjacent pieces whose concatenation is a token; longer pieces score
 * higher so merges grow whole words, and ▁-words outrank suffixes so a word is built from its start.
 * Pieces are ordered so that a prefix always precedes its extensions: cutting the list keeps it usable.
 */
export function buildVocabulary(size: number): Vocabulary {
  if (!Number.isInteger(size) || size < MIN_VOCAB_SIZE || size > MAX_VOCAB_SIZE) {
    throw new RangeError(`vocabulary size must be an integer in [${MIN_VOCAB_SIZE}, ${MAX_VOCAB_SIZE}], got ${size}`);
  }
  const natural = naturalPieces();
  const tokens = natural.tokens.slice(0, size);
  const scores = natural.scores.slice(0, size);
  const types = natural.types.slice(0, size);
  const emittable = natural.emittable.slice(0, size);
  // Pad with single characters: they never disturb merges, and é/€ etc. stay byte-fallback.
  for (const code of paddingCodePoints(size - tokens.length)) {
    tokens.push(String.fromCodePoint(code));
    scores.push(SINGLE_CHAR_SCORE);
    types.push(TokenType.NORMAL);
    emittable.push(false);
  }
  return { tokens, scores, types, emittable };
}

/** How many tokens the vocabulary has before padding. */
export function naturalVocabularySize(): number {
  return naturalPieces().tokens.length;
}

function naturalPieces(): { tokens: string[]; scores: number[]; types: TokenType[]; emittable: boolean[] } {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: TokenType[] = [];
  const emittable: boolean[] = [];
  const index = new Map<string, number>();
  const add = (piece: string, score: number, type: TokenType, whole = false): void => {
    const existing = index.get(piece);
    if (existing !== undefined) {
      // A word that is also a prefix of an earlier word ("▁an" of "▁and") is still a whole word.
      if (whole) emittable[existing] = true;
      return;
    }
    index.set(piece, tokens.length);
    tokens.push(piece);
    scores.push(score);
    types.push(type);
    emittable.push(whole);
  };

  add("<unk>", 0, TokenType.UNKNOWN);
  add("<s>", 0, TokenType.CONTROL);
  add("</s>", 0, TokenType.CONTROL);
  for (let byte = 0; byte < 256; byte++) {
    add(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`, 0, TokenType.BYTE);
  }
  add(SPM_SPACE, SINGLE_CHAR_SCORE, TokenType.NORMAL);
  for (const char of PRINTABLE_ASCII) add(char, SINGLE_CHAR_SCORE, TokenType.NORMAL, EMITTABLE_PUNCTUATION.has(char));

  const addWithPrefixes = (piece: string, scoreOffset: number, rank: number): void => {
    const chars = [...piece];
    for (let length = 2; length <= chars.length; length++) {
      // Longer first, commoner breaks ties; the rank term stays below 1 so length always dominates.
      add(chars.slice(0, length).join(""), length + scoreOffset - rank / 10_000, TokenType.NORMAL, length === chars.length);
    }
  };
  SUFFIXES.forEach((suffix, rank) => addWithPrefixes(suffix, SUFFIX_SCORE_OFFSET, rank));
  ENGLISH_WORDS.forEach((word, rank) => addWithPrefixes(SPM_SPACE + word, 0, rank));
  return { tokens, scores, types, emittable };
}

function paddingCodePoints(count: number): number[] {
  const ranges: ReadonlyArray<readonly [number, number]> = [
    [0x4e00, 0x9fff], // CJK unified ideographs
    [0xac00, 0xd7a3], // Hangul syllables
  ];
  const codes: number[] = [];
  for (const [first, last] of ranges) {
    for (let code = first; code <= last && codes.length < count; code++) codes.push(code);
  }
  if (codes.length < count) throw new RangeError(`cannot pad the vocabulary by ${count} tokens`);
  return codes;
}
