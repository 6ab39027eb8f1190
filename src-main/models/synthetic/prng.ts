/**
 * Seeded randomness built only from 32-bit integer ops and exactly rounded arithmetic, so every machine
 * (and every V8 version) produces the same weights: Math.log/cos would not be guaranteed to.
 */

/** splitmix32 step: a well-mixed 32-bit value from any 32-bit input. */
export function splitmix32(input: number): number {
  let z = (input + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a string's UTF-16 code units: a stable 32-bit label hash. */
export function hashLabel(label: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** xoshiro128** seeded through splitmix32 (which keeps the state from being all zero in practice). */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    this.s0 = splitmix32(seed);
    this.s1 = splitmix32(this.s0);
    this.s2 = splitmix32(this.s1);
    this.s3 = splitmix32(this.s2);
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Fills `out` with approximately normal values of the given standard deviation: the sum of the four
   * bytes of one draw (Irwin–Hall of 4 uniforms), centred and scaled. One draw per value keeps 100M
   * weights to about a second.
   */
  fillNormal(out: Float32Array, std: number): void {
    const scale = std / IRWIN_HALL_4_BYTES_STD;
    for (let i = 0; i < out.length; i++) {
      const r = this.nextU32();
      const sum = (r & 0xff) + ((r >>> 8) & 0xff) + ((r >>> 16) & 0xff) + (r >>> 24);
      out[i] = (sum - IRWIN_HALL_4_BYTES_MEAN) * scale;
    }
  }
}

const IRWIN_HALL_4_BYTES_MEAN = 510;
// sqrt(4 * (256^2 - 1) / 12): the standard deviation of a sum of four uniform bytes.
const IRWIN_HALL_4_BYTES_STD = Math.sqrt((4 * (256 * 256 - 1)) / 12);

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
