import { describe, expect, it } from "vitest";
import { encodeFloat16, float16BitsToFloat32, float32ToFloat16Bits } from "./float16.js";

describe("float32ToFloat16Bits", () => {
  it("encodes exact values", () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2.5)).toBe(0xc100);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(0)).toBe(0x0000);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(2 ** -14)).toBe(0x0400); // smallest normal
  });

  it("encodes subnormals", () => {
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(float32ToFloat16Bits(1023 * 2 ** -24)).toBe(0x03ff);
    expect(float32ToFloat16Bits(-5 * 2 ** -24)).toBe(0x8005);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0x0000); // tie, rounds to even (zero)
    expect(float32ToFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulp: tie, rounds to even
    expect(float32ToFloat16Bits(2 ** -25 * 1.25)).toBe(0x0001);
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(float32ToFloat16Bits(1e-30)).toBe(0x0000);
    expect(float32ToFloat16Bits(1023.5 * 2 ** -24)).toBe(0x0400); // rounds up into the smallest normal
  });

  it("rounds to nearest, ties to even", () => {
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie between 0x3c00 and 0x3c01 → even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 0x3c01 and 0x3c02 → even
    expect(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(float32ToFloat16Bits(1 + 2 ** -12)).toBe(0x3c00);
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
    expect(float32ToFloat16Bits(1 - 2 ** -11)).toBe(0x3bff); // exactly representable
    expect(float32ToFloat16Bits(1 - 2 ** -12)).toBe(0x3c00); // tie, rounds up to even: carries into the exponent
  });

  it("overflows to infinity and keeps NaN", () => {
    expect(float32ToFloat16Bits(65519)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // tie above the largest finite → Inf
    expect(float32ToFloat16Bits(1e10)).toBe(0x7c00);
    expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
    const nan = float32ToFloat16Bits(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x03ff).not.toBe(0);
  });

  it("round-trips every finite half value", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      expect(float32ToFloat16Bits(float16BitsToFloat32(bits))).toBe(bits);
    }
  });

  it("encodes arrays little-endian", () => {
    const bytes = encodeFloat16(new Float32Array([1, -2.5]));
    expect([...bytes]).toEqual([0x00, 0x3c, 0x00, 0xc1]);
  });
});
