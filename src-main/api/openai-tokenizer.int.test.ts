import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine, loadModelTokenizer, type Engine, type LoadedModel, type ModelTokenizer } from "../engine/index.js";
import { ensureSyntheticModel } from "../models/index.js";

// What the gateway relies on from the engine's vocab-only tokenizer: the same prompt tokens a worker's
// loaded model makes, and chats rendered with the GGUF's own template.
let tokenizer: ModelTokenizer;
let engine: Engine;
let model: LoadedModel;

beforeAll(async () => {
  const made = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32", peaky: true });
  tokenizer = await loadModelTokenizer(made.path, { gpu: false });
  engine = await createEngine({ gpu: false });
  model = await engine.loadModel(made.path, { threads: 1 });
});

afterAll(async () => {
  await tokenizer?.close();
  await engine?.close();
});

describe("loadModelTokenizer", () => {
  it("describes the file like the engine does and tokenizes prompts exactly as a loaded model", () => {
    expect(tokenizer.info).toEqual(model.info);
    for (const text of ["The swarm", " leading space", "ünïcode ✓ and\nnew lines", ""]) {
      expect(tokenizer.tokenizePrompt(text)).toEqual(model.tokenizePrompt(text));
    }
  });

  it("renders a chat with the GGUF's ChatML template, opening the assistant's turn, after BOS", () => {
    expect(tokenizer.chatTemplate).toContain("<|im_start|>");
    const rendered = tokenizer.renderChat([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
      { role: "assistant", content: "Hi!" },
      { role: "user", content: "Again" },
    ]);
    expect(rendered.text).toBe("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi!<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n<|im_start|>assistant\n");
    expect(rendered.tokens[0]).toBe(1); // BOS: the model's add_bos_token
    expect(rendered.tokens.every((token) => token >= 0 && token < tokenizer.info.vocabularySize)).toBe(true);
    // Deterministic: every gateway holding this file sends the same tokens for the same chat.
    expect(tokenizer.renderChat([{ role: "user", content: "Hello" }]).tokens).toEqual(tokenizer.renderChat([{ role: "user", content: "Hello" }]).tokens);
  });
});
