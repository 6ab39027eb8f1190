import { describe, expect, it } from "vitest";
import { createTokenBucket, createUploadSlots, type BucketTime } from "./pieces-upload-caps.js";

function fakeTime(): BucketTime & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe("upload caps", () => {
  it("lets a burst through, then paces bytes to the rate", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ bytesPerSecond: 1000, burstSeconds: 0.5, time });
    await bucket.take(500);
    expect(time.now()).toBe(0);
    for (let i = 0; i < 10; i++) await bucket.take(300);
    // 3,500 bytes with 500 of burst at 1,000 B/s: 3 s.
    expect(time.now()).toBeCloseTo(3000, 6);
  });

  it("never exceeds burst + rate × time, whatever the chunk sizes", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ bytesPerSecond: 2048, burstSeconds: 0.25, time });
    let sent = 0;
    for (const size of [100, 5000, 1, 4096, 777, 10_000, 3]) {
      await bucket.take(size);
      sent += size;
      expect(sent).toBeLessThanOrEqual(2048 * 0.25 + (2048 * time.now()) / 1000 + size);
    }
    expect(time.now()).toBeGreaterThanOrEqual(((sent - 2048 * 0.25) / 2048) * 1000 - 1e-6);
  });

  it("is unlimited without a rate and can be changed while running", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ bytesPerSecond: undefined, time });
    await bucket.take(1e9);
    expect(time.now()).toBe(0);
    bucket.setRate(1000);
    await bucket.take(1000);
    expect(time.now()).toBeGreaterThan(0);
  });

  it("serves takers in order", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ bytesPerSecond: 100, burstSeconds: 0, time });
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((n) => bucket.take(100).then(() => order.push(n))));
    expect(order).toEqual([1, 2, 3]);
  });

  it("counts upload slots and refuses over the limit", () => {
    const slots = createUploadSlots(2);
    const a = slots.tryAcquire();
    const b = slots.tryAcquire();
    expect(a && b).toBeTruthy();
    expect(slots.tryAcquire()).toBeUndefined();
    a!();
    a!();
    expect(slots.active()).toBe(1);
    expect(slots.tryAcquire()).toBeDefined();
    slots.setLimit(1);
    expect(slots.tryAcquire()).toBeUndefined();
  });
});
