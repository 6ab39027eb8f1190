import { float32ToFloat16Bits, float16BitsToFloat32, IS_LITTLE_ENDIAN } from "./float16.js";

export const Q8_0_BLOCK_SIZE = 32;
export const Q8_0_BLOCK_BYTES = 34;

/** C's roundf: halves go away from zero (Math.round sends -2.5 to -2). */
function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Q8_0 as ggml's quantize_row_q8_0_ref: per block of 32, f16 scale d = max|x| / 127 (little-endian),
 * then 32 int8 values round(x / d).
 */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK_SIZE !== 0) {
    throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK_SIZE} values, got ${values.length}`);
  }
  const blocks = values.length / Q8_0_BLOCK_SIZE;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const signed = new Int8Array(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const start = b * Q8_0_BLOCK_SIZE;
    let maxAbs = 0;
    for (let j = 0; j < Q8_0_BLOCK_SIZE; j++) maxAbs = Math.max(maxAbs, Math.abs(values[start + j]!));
    // Math.fround: ggml computes d and 1/d in float32.
    const d = Math.fround(maxAbs / 127);
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    const scaleBits = float32ToFloat16Bits(d);
    const base = b * Q8_0_BLOCK_BYTES;
    out[base] = scaleBits & 0xff;
    out[base + 1] = scaleBits >>> 8;
    for (let j = 0; j < Q8_0_BLOCK_SIZE; j++) {
      signed[base + 2 + j] = roundHalfAwayFromZero(Math.fround(values[start + j]! * inverse));
    }
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const blocks = Math.floor(bytes.length / Q8_0_BLOCK_BYTES);
  const out = new Float32Array(blocks * Q8_0_BLOCK_SIZE);
  const signed = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK_BYTES;
    const d = float16BitsToFloat32(bytes[base]! | (bytes[base + 1]! << 8));
    for (let j = 0; j < Q8_0_BLOCK_SIZE; j++) out[b * Q8_0_BLOCK_SIZE + j] = d * signed[base + 2 + j]!;
  }
  return out;
}

/** Float32Array → little-endian float32 bytes (no copy on little-endian hosts). */
export function encodeFloat32(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (IS_LITTLE_ENDIAN) return bytes;
  const copy = new Uint8Array(bytes.length);
  const view = new DataView(copy.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return copy;
}
