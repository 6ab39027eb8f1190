/**
 * Sequential read bandwidth, measured in-process: `Buffer.indexOf` of a byte that is absent scans the
 * whole buffer with memchr (SIMD), which is bound by memory, not by compute. The buffer is far larger
 * than any cache; the best of several passes is kept (noise only ever slows a pass down).
 */
export function measureReadBandwidth(options: { bytes?: number; passes?: number } = {}): { bytesPerSecond: number; bytes: number } {
  const bytes = options.bytes ?? 512 * 2 ** 20;
  const passes = options.passes ?? 6;
  const buffer = Buffer.alloc(bytes, 1); // filled, so every page is really backed by memory
  let best = Infinity;
  for (let pass = 0; pass < passes; pass++) {
    const started = process.hrtime.bigint();
    const found = buffer.indexOf(0xfe);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (found !== -1) throw new Error("bandwidth probe found a byte it wrote nowhere");
    best = Math.min(best, seconds);
  }
  return { bytesPerSecond: bytes / best, bytes };
}
