import { describe, expect, it } from "vitest";
import { Xoshiro128, hashLabel, splitmix32 } from "./prng.js";

describe("seeded randomness", () => {
  it("is a pure function of the seed", () => {
    const a = new Xoshiro128(42);
    const b = new Xoshiro128(42);
    const c = new Xoshiro128(43);
    const drawsA = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(drawsA);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(drawsA);
    expect(drawsA.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)).toBe(true);
  });

  it("pins the streams (every synthetic model's weights depend on them)", () => {
    expect([splitmix32(1), hashLabel("output.weight")]).toEqual([2527132011, 254457990]);
    const random = new Xoshiro128(1);
    expect([random.nextU32(), random.nextU32(), random.nextU32()]).toEqual([418128060, 3712186797, 1764717425]);
  });

  it("fills approximately standard normal values at the requested scale", () => {
    const values = new Float32Array(200_000);
    new Xoshiro128(7).fillNormal(values, 0.5);
    const mean = values.reduce((s, x) => s + x, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.49);
    expect(std).toBeLessThan(0.51);
    expect(Math.max(...values.subarray(0, 50_000).map(Math.abs))).toBeLessThan(0.5 * 3.5); // Irwin–Hall tails are bounded
  });
});
