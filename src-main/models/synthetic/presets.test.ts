import { describe, expect, it } from "vitest";
import { PRESETS, countParameters, headDim, modelTensors, validateShape } from "./presets.js";

describe("presets", () => {
  it.each([
    ["tiny", 0.7e6, 1.3e6],
    ["small", 4.5e6, 7.5e6],
    ["medium", 16e6, 25e6],
    ["large", 85e6, 115e6],
  ] as const)("%s has the stated parameter count", (name, min, max) => {
    const count = countParameters(PRESETS[name]);
    expect(count).toBeGreaterThanOrEqual(min);
    expect(count).toBeLessThanOrEqual(max);
  });

  it("counts parameters exactly", () => {
    const tiny = PRESETS.tiny; // 2048 vocab, 128 embd, 2 layers, 384 ff, 4 heads, 2 kv heads
    const perLayer = 2 * 128 + 128 * 128 + 2 * 128 * 64 + 128 * 128 + 3 * 128 * 384;
    expect(countParameters(tiny)).toBe(2 * 2048 * 128 + 128 + 2 * perLayer);
  });

  it.each(Object.entries(PRESETS))("%s is a valid GQA LLaMA shape", (name, shape) => {
    expect(() => validateShape(shape)).not.toThrow();
    expect(shape.headCountKv).toBeLessThan(shape.headCount);
    expect(headDim(shape) * shape.headCount).toBe(shape.embeddingLength);
    for (const tensor of modelTensors(shape)) expect(tensor.dims[0]! % 32, `${name} ${tensor.name}`).toBe(0);
  });

  it("rejects shapes that would not load", () => {
    expect(() => validateShape({ ...PRESETS.tiny, headCountKv: 3 })).toThrow(/head_count_kv/);
    expect(() => validateShape({ ...PRESETS.tiny, feedForwardLength: 100 })).toThrow(/multiples of 32/);
  });
});
