import { describe, expect, it } from "vitest";
import { float16BitsToFloat32, float32ToFloat16Bits } from "./float16.js";
import { Q8_0_BLOCK_BYTES, dequantizeQ8_0, encodeFloat32, quantizeQ8_0 } from "./tensor-encoding.js";

describe("quantizeQ8_0", () => {
  it("lays out each block as an f16 scale then 32 int8 values", () => {
    const values = new Float32Array(64);
    for (let i = 0; i < 32; i++) values[i] = (i - 16) * 0.5; // max |x| = 8
    // second block stays zero
    const bytes = quantizeQ8_0(values);
    expect(bytes.length).toBe(2 * Q8_0_BLOCK_BYTES);

    const d = Math.fround(8 / 127);
    expect(bytes[0]! | (bytes[1]! << 8)).toBe(float32ToFloat16Bits(d));
    const quants = new Int8Array(bytes.buffer, 2, 32);
    expect(quants[0]).toBe(-127); // -8 / d
    expect(quants[16]).toBe(0);
    expect(quants[31]).toBe(Math.round(7.5 / d)); // 119
    expect(quants[31]).toBe(119);

    const second = bytes.subarray(Q8_0_BLOCK_BYTES);
    expect([...second].every((b) => b === 0)).toBe(true);
  });

  it("rounds halves away from zero like C's roundf", () => {
    const values = new Float32Array(32);
    values[0] = 127; // d = 1 exactly
    values[1] = 2.5;
    values[2] = -2.5;
    const quants = new Int8Array(quantizeQ8_0(values).buffer, 2, 32);
    expect([quants[0], quants[1], quants[2]]).toEqual([127, 3, -3]);
  });

  it("dequantizes within half a step", () => {
    const values = Float32Array.from({ length: 96 }, (_, i) => Math.sin(i) * (1 + (i % 7)));
    const restored = dequantizeQ8_0(quantizeQ8_0(values));
    for (let block = 0; block < 3; block++) {
      const slice = values.subarray(block * 32, block * 32 + 32);
      const d = float16BitsToFloat32(float32ToFloat16Bits(Math.max(...slice.map(Math.abs)) / 127));
      for (let j = 0; j < 32; j++) {
        expect(Math.abs(restored[block * 32 + j]! - slice[j]!)).toBeLessThanOrEqual(d * 0.51 + 1e-6);
      }
    }
  });

  it("rejects a length that is not whole blocks", () => {
    expect(() => quantizeQ8_0(new Float32Array(33))).toThrow(/multiple of 32/);
  });
});

describe("encodeFloat32", () => {
  it("writes little-endian IEEE floats", () => {
    expect([...encodeFloat32(new Float32Array([1]))]).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });
});
