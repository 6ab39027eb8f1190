import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectGgufFile } from "../gguf/gguf-reader.js";
import { GgmlType } from "../gguf/gguf-types.js";
import { hashModelFile } from "../model-hash.js";
import { countParameters, PRESETS } from "./presets.js";
import { normalizeSyntheticModelSpec, wrongModelSpec } from "./synthetic-spec.js";
import { writeSyntheticModel } from "./synthetic-model.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "synthetic-model-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeSyntheticModel", () => {
  it("is deterministic: the same spec gives the same bytes, another seed different ones", async () => {
    const spec = { preset: "tiny", seed: 1, quantization: "F32" } as const;
    const a = await writeSyntheticModel(spec, join(dir, "a.gguf"));
    const b = await writeSyntheticModel(spec, join(dir, "b.gguf"));
    const other = await writeSyntheticModel(wrongModelSpec(spec), join(dir, "c.gguf"));
    expect(a.sha256).toBe(b.sha256);
    expect(a.sha256).toBe(await hashModelFile(a.path));
    expect(other.sha256).not.toBe(a.sha256);
    expect(Math.abs(other.fileSize - a.fileSize)).toBeLessThanOrEqual(64); // only the header's seed text differs
    // Pinned: the bytes must not change silently (peers compare content hashes). If a change to the
    // generator is intended, bump SYNTHETIC_GENERATOR_VERSION and update this value.
    expect(a.sha256).toBe("fcdef14b58b52b07ba031c230233b5ea7f5dcc93caca4a340b21cc2c3b1f4312");
  });

  it.each([
    ["F32", GgmlType.F32, 0],
    ["F16", GgmlType.F16, 1],
    ["Q8_0", GgmlType.Q8_0, 7],
  ] as const)("writes %s weights with F32 norms and the llama metadata", async (quantization, type, fileType) => {
    const made = await writeSyntheticModel({ preset: "tiny", seed: 3, quantization }, join(dir, `${quantization}.gguf`));
    const summary = await inspectGgufFile(made.path);
    expect(made.parameterCount).toBe(countParameters(PRESETS.tiny));
    expect(made.fileSize).toBe(summary.fileSize);
    expect(summary.kv.get("general.architecture")).toBe("llama");
    expect(summary.kv.get("general.file_type")).toBe(fileType);
    expect(summary.kv.get("general.alignment")).toBe(32);
    expect(summary.kv.get("general.description")).toMatch(/synthetic.*seed 3/i);
    expect(summary.kv.get("llama.rope.dimension_count")).toBe(32);
    expect(summary.kv.get("llama.attention.head_count_kv")).toBe(2);
    expect((summary.kv.get("tokenizer.ggml.tokens") as string[]).length).toBe(2048);
    for (const tensor of summary.tensors) {
      expect(tensor.type, tensor.name).toBe(tensor.dims.length === 1 ? GgmlType.F32 : type);
    }
    const names = summary.tensors.map((t) => t.name);
    expect(names).toContain("output.weight");
    expect(names).toContain("blk.1.ffn_down.weight");
    expect(summary.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0)).toBe(made.parameterCount);
  });

  it("honours name and vocabSize", async () => {
    const made = await writeSyntheticModel(
      { preset: "tiny", seed: 1, quantization: "F16", name: "custom", vocabSize: 1000 },
      join(dir, "custom.gguf"),
    );
    const summary = await inspectGgufFile(made.path);
    expect(summary.kv.get("general.name")).toBe("custom");
    expect(summary.kv.get("llama.vocab_size")).toBe(1000);
    expect(summary.tensors.find((t) => t.name === "output.weight")?.dims).toEqual([128, 1000]);
  });
});

describe("specs", () => {
  it("normalizes defaults and rejects bad input", () => {
    expect(normalizeSyntheticModelSpec({ preset: "small", seed: 5, quantization: "Q8_0" })).toEqual({
      preset: "small",
      seed: 5,
      quantization: "Q8_0",
      peaky: true,
      name: "inferswarm-synthetic-small",
      vocabSize: 2048,
    });
    expect(() => normalizeSyntheticModelSpec({ preset: "huge" as "tiny", seed: 1, quantization: "F32" })).toThrow();
    expect(() => normalizeSyntheticModelSpec({ preset: "tiny", seed: -1, quantization: "F32" })).toThrow();
    expect(() => normalizeSyntheticModelSpec({ preset: "tiny", seed: 2 ** 32, quantization: "F32" })).toThrow();
    expect(() => normalizeSyntheticModelSpec({ preset: "tiny", seed: 1, quantization: "Q4_0" as "F32" })).toThrow();
  });

  it("makes the wrong model from the next seed, keeping everything else", () => {
    const spec = { preset: "tiny", seed: 1, quantization: "F32", peaky: false } as const;
    expect(wrongModelSpec(spec)).toEqual({ ...spec, seed: 2 });
    expect(wrongModelSpec({ ...spec, seed: 0xffffffff }).seed).toBe(0);
  });
});
