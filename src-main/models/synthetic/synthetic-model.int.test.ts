import { getLlama, LlamaCompletion, readGgufFileInfo } from "node-llama-cpp";
import type { Llama, LlamaContext, LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectGgufFile } from "../gguf/gguf-reader.js";
import { knownGgmlTypes, ggmlTypeTraits } from "../gguf/gguf-types.js";
import type { GgufValue } from "../gguf/gguf-values.js";
import { ensureSyntheticModel } from "./model-cache.js";
import type { SyntheticModelSpec } from "./synthetic-spec.js";
import { wrongModelSpec } from "./synthetic-spec.js";
import { FIRST_BYTE_TOKEN_ID } from "./vocabulary.js";

const tinyF32: SyntheticModelSpec = { preset: "tiny", seed: 1, quantization: "F32", peaky: true };
const specs: Record<string, SyntheticModelSpec> = {
  "tiny F32": tinyF32,
  "tiny F16": { ...tinyF32, quantization: "F16" },
  "small Q8_0": { preset: "small", seed: 1, quantization: "Q8_0", peaky: true },
};

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
}

let llama: Llama;
const loaded = new Map<string, Loaded>();
const paths = new Map<string, string>();

async function load(label: string, spec: SyntheticModelSpec): Promise<Loaded> {
  const path = (await ensureSyntheticModel(spec)).path;
  paths.set(label, path);
  const model = await llama.loadModel({ modelPath: path });
  // threads: the default (max(4, cores)) decodes ~100x slower on a 2-core machine.
  const context = await model.createContext({ threads: 1, contextSize: 512 });
  const entry = { model, context };
  loaded.set(label, entry);
  return entry;
}

async function greedy({ context }: Loaded, prompt: string): Promise<{ text: string; tokensPerSecond: number }> {
  const sequence = context.getSequence();
  try {
    const completion = new LlamaCompletion({ contextSequence: sequence });
    const started = performance.now();
    const text = await completion.generateCompletion(prompt, { maxTokens: 32, temperature: 0 });
    const seconds = (performance.now() - started) / 1000;
    completion.dispose();
    return { text, tokensPerSecond: 32 / seconds };
  } finally {
    sequence.dispose();
  }
}

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", skipDownload: true });
  for (const [label, spec] of Object.entries(specs)) await load(label, spec);
  await load("tiny F32 wrong", wrongModelSpec(tinyF32));
});

afterAll(async () => {
  for (const { model, context } of loaded.values()) {
    await context.dispose();
    await model.dispose();
  }
  await llama?.dispose();
});

describe.each(Object.keys(specs))("synthetic %s in llama.cpp", (label) => {
  const get = (): Loaded => loaded.get(label)!;

  it("tokenizes words into whole-word pieces and back", () => {
    const text = "The swarm answers";
    const tokens = get().model.tokenize(text);
    expect(tokens.length).toBeLessThan(text.length);
    expect(tokens.length).toBe(3);
    expect(get().model.detokenize(tokens)).toBe(text);
  });

  it("falls back to byte tokens for characters outside the vocabulary", () => {
    const text = "café costs €5";
    const tokens = get().model.tokenize(text);
    const byteTokens = tokens.filter((t) => t >= FIRST_BYTE_TOKEN_ID && t < FIRST_BYTE_TOKEN_ID + 256);
    expect(byteTokens.length).toBe(2 + 3); // é is 2 UTF-8 bytes, € is 3
    expect(get().model.detokenize(tokens)).toBe(text);
  });

  it("generates the same greedy text twice", async () => {
    const first = await greedy(get(), "The swarm");
    const second = await greedy(get(), "The swarm");
    expect(first.text.trim().length).toBeGreaterThan(0);
    expect(second.text).toBe(first.text);
    console.info(`${label}: greedy ${first.tokensPerSecond.toFixed(0)} tok/s: ${JSON.stringify(first.text)}`);
  });
});

describe("synthetic models in llama.cpp", () => {
  it("the wrong-seed model generates a different sequence", async () => {
    const right = await greedy(loaded.get("tiny F32")!, "The swarm");
    const wrong = await greedy(loaded.get("tiny F32 wrong")!, "The swarm");
    const rightTokens = loaded.get("tiny F32")!.model.tokenize(right.text);
    const wrongTokens = loaded.get("tiny F32 wrong")!.model.tokenize(wrong.text);
    expect(wrongTokens).not.toEqual(rightTokens);
  });

  it.each(["tiny F32", "small Q8_0"])("our reader agrees with node-llama-cpp's on %s", async (label) => {
    const path = paths.get(label)!;
    const ours = await inspectGgufFile(path);
    const theirs = await readGgufFileInfo(path, { logWarnings: false });
    expect(theirs.version).toBe(ours.version);
    expect(theirs.infoEndOffset).toBe(ours.dataOffset);
    for (const [key, value] of ours.kv) {
      expect(normalize(lookup(theirs.metadata, key)), key).toEqual(normalize(value));
    }
    expect(
      theirs.tensorInfo?.map((t) => ({ name: t.name, dims: t.dimensions.map(Number), type: t.ggmlType, offset: Number(t.offset) })),
    ).toEqual(ours.tensors.map(({ name, dims, type, offset }) => ({ name, dims, type, offset })));
  });

  it("our ggml type sizes match the native library's", () => {
    // A private binding, but the only source of truth for block sizes short of the C headers.
    const bindings = (llama as unknown as { _bindings: NativeTypeSizes })._bindings;
    for (const type of knownGgmlTypes()) {
      expect({ type, ...ggmlTypeTraits(type) }).toEqual({
        type,
        blockSize: bindings.getBlockSizeForGgmlType(type),
        typeSize: bindings.getTypeSizeForGgmlType(type),
      });
    }
  });
});

interface NativeTypeSizes {
  getBlockSizeForGgmlType(type: number): number | undefined;
  getTypeSizeForGgmlType(type: number): number | undefined;
}

function lookup(metadata: object, key: string): unknown {
  let node: unknown = metadata;
  for (const part of key.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/** Both readers return float32 as JS numbers; arrays may differ only in container type. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value as ArrayLike<GgufValue>, normalize);
  return typeof value === "bigint" ? value.toString() : value;
}
