import { describe, expect, it } from "vitest";
import { MAX_VOCAB_SIZE, MIN_VOCAB_SIZE, SPM_SPACE, TokenType, buildVocabulary, naturalVocabularySize } from "./vocabulary.js";

describe("buildVocabulary", () => {
  const vocab = buildVocabulary(2048);

  it("starts with the control tokens and the 256 byte tokens", () => {
    expect(vocab.tokens.slice(0, 3)).toEqual(["<unk>", "<s>", "</s>"]);
    expect(vocab.types.slice(0, 3)).toEqual([TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]);
    expect(vocab.tokens[3]).toBe("<0x00>");
    expect(vocab.tokens[3 + 0x0a]).toBe("<0x0A>");
    expect(vocab.tokens[3 + 0xff]).toBe("<0xFF>");
    expect(vocab.types.slice(3, 259).every((t) => t === TokenType.BYTE)).toBe(true);
    expect(vocab.tokens[259]).toBe(SPM_SPACE);
    expect(vocab.types.slice(259).every((t) => t === TokenType.NORMAL)).toBe(true);
  });

  it("has exactly the requested size, with unique pieces", () => {
    expect(vocab.tokens.length).toBe(2048);
    expect(vocab.scores.length).toBe(2048);
    expect(vocab.types.length).toBe(2048);
    expect(new Set(vocab.tokens).size).toBe(2048);
  });

  it("contains every prefix of every multi-character piece, whatever the size", () => {
    for (const size of [MIN_VOCAB_SIZE, 700, naturalVocabularySize(), 2048, 5000]) {
      const pieces = new Set(buildVocabulary(size).tokens);
      for (const piece of pieces) {
        const chars = [...piece];
        if (piece.startsWith("<")) continue;
        for (let length = 1; length < chars.length; length++) {
          expect(pieces.has(chars.slice(0, length).join("")), `${piece} at size ${size}`).toBe(true);
        }
      }
    }
  });

  it("scores longer pieces higher, and ▁-words above suffixes", () => {
    const score = (piece: string): number => vocab.scores[vocab.tokens.indexOf(piece)]!;
    expect(score("▁swarm")).toBeGreaterThan(score("▁swar"));
    expect(score("▁the")).toBeGreaterThan(score("▁th"));
    expect(score("▁is")).toBeGreaterThan(score("es"));
  });

  it("keeps é and € out so they use byte fallback", () => {
    expect(vocab.tokens).not.toContain("é");
    expect(vocab.tokens).not.toContain("€");
  });

  it("is deterministic and rejects sizes it cannot build", () => {
    expect(buildVocabulary(2048)).toEqual(vocab);
    expect(() => buildVocabulary(MIN_VOCAB_SIZE - 1)).toThrow(RangeError);
    expect(() => buildVocabulary(MAX_VOCAB_SIZE + 1)).toThrow(RangeError);
    expect(buildVocabulary(MAX_VOCAB_SIZE).tokens.length).toBe(MAX_VOCAB_SIZE);
  });
});
