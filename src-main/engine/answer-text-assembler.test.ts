import { describe, expect, it } from "vitest";
import { AnswerTextAssembler, type GeneratedToken } from "./answer-text-assembler.js";

// A fake vocabulary: ids < 1000 are word pieces, ids >= 1000 are single UTF-8 bytes (byte fallback).
const pieces = ["", " The", " swarm", " answers", ".", "\n", "END", "EN", "D", " q"];
const detokenize = (tokens: readonly number[]) =>
  Buffer.concat(tokens.map((t) => (t >= 1000 ? Buffer.from([t - 1000]) : Buffer.from(pieces[t] ?? "?")))).toString("utf8");
const bytesOf = (text: string) => [...Buffer.from(text)].map((b) => b + 1000);

function run(tokens: number[], stop: string[] = []) {
  const assembler = new AnswerTextAssembler(detokenize, stop, []);
  const out: GeneratedToken[] = [];
  const heldAfterPush: number[] = [];
  for (const token of tokens) {
    const released = assembler.push(token);
    out.push(...released);
    heldAfterPush.push(released.length);
    if (assembler.stopped) break;
  }
  out.push(...assembler.flush());
  return { out, text: out.map((t) => t.text).join(""), stopped: assembler.stopped, heldAfterPush };
}

describe("AnswerTextAssembler", () => {
  it("releases each word piece as it arrives when nothing is ambiguous", () => {
    const { out, text, heldAfterPush } = run([1, 2, 3, 4]);
    expect(text).toBe(" The swarm answers.");
    expect(out.map((t) => t.tokenId)).toEqual([1, 2, 3, 4]);
    expect(heldAfterPush).toEqual([1, 1, 1, 1]);
  });

  it("holds byte-fallback tokens until the UTF-8 character is complete", () => {
    const euro = bytesOf("€"); // 3 bytes
    const { out, text, heldAfterPush } = run([1, ...euro, 4]);
    expect(text).toBe(" The€.");
    expect(heldAfterPush).toEqual([1, 0, 0, 3, 1]);
    expect(out.map((t) => t.text)).toEqual([" The", "", "", "€", "."]);
  });

  it("ends the answer right before a stop sequence and drops the tokens after it", () => {
    const { out, text, stopped } = run([1, 2, 5, 3, 4], ["\n"]);
    expect(stopped).toBe(true);
    expect(text).toBe(" The swarm");
    expect(out.map((t) => t.tokenId)).toEqual([1, 2, 5]);
  });

  it("holds a tail that may start a stop sequence, then releases it when it does not", () => {
    // "EN" could begin "END": held; then " q" proves it is not a stop.
    const { out, text, heldAfterPush } = run([1, 7, 9, 4], ["END"]);
    expect(text).toBe(" TheEN q.");
    expect(heldAfterPush).toEqual([1, 0, 2, 1]);
    expect(out.map((t) => t.tokenId)).toEqual([1, 7, 9, 4]);
  });

  it("finds a stop sequence split across tokens", () => {
    const { text, stopped, out } = run([1, 7, 8, 2], ["END"]);
    expect(stopped).toBe(true);
    expect(text).toBe(" The");
    // The token where the stop begins is kept (with empty text); the one completing it is dropped.
    expect(out.map((t) => t.tokenId)).toEqual([1, 7]);
  });

  it("releases held text when the generation ends without completing the stop", () => {
    const { text } = run([1, 7], ["END"]);
    expect(text).toBe(" TheEN");
  });

  it("sees a stop sequence that began in the resumed text", () => {
    const assembler = new AnswerTextAssembler(detokenize, ["END"], [1], " The EN");
    const released = assembler.push(8);
    expect(assembler.stopped).toBe(true);
    expect(released.map((t) => t.text).join("")).toBe("");
  });
});
