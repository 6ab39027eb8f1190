import { describe, expect, it } from "vitest";
import { createLatencyCache } from "./latency-cache.js";
import { createFakeTime, fixedLatencies } from "./scheduler.test-support.js";

const options = { ttlMs: 60_000, probeTimeoutMs: 500, maxEntries: 2 };

describe("latency cache", () => {
  it("probes once per TTL, unknown results included", async () => {
    const time = createFakeTime();
    const probe = fixedLatencies({ a: 12 });
    const cache = createLatencyCache(probe, time.clock, time.timers, options);
    expect(await cache.latencies(["a", "b"])).toEqual(new Map([["a", 12], ["b", undefined]]));
    expect(await cache.latencies(["a", "b"])).toEqual(new Map([["a", 12], ["b", undefined]]));
    expect(probe.probes).toEqual(["a", "b"]);
    await time.advance(60_000);
    await cache.latencies(["a"]);
    expect(probe.probes).toEqual(["a", "b", "a"]);
    expect(time.pendingTimers()).toBe(0);
  });

  it("does not wait longer than the probe timeout; a late answer fills the cache for next time", async () => {
    const time = createFakeTime();
    let answer!: (ms: number) => void;
    const cache = createLatencyCache({ latencyMs: () => new Promise<number>((resolve) => (answer = resolve)) }, time.clock, time.timers, options);
    const pending = cache.latencies(["slow"]);
    await time.advance(500);
    expect(await pending).toEqual(new Map([["slow", undefined]]));
    answer(80);
    await time.advance(0);
    expect(await cache.latencies(["slow"])).toEqual(new Map([["slow", 80]]));
  });

  it("treats a failing or nonsensical probe as unknown, and keeps at most maxEntries peers", async () => {
    const time = createFakeTime();
    const probed: string[] = [];
    const cache = createLatencyCache(
      {
        latencyMs: async (peerId) => {
          probed.push(peerId);
          if (peerId === "x") throw new Error("unreachable");
          return peerId === "y" ? -5 : 7;
        },
      },
      time.clock,
      time.timers,
      options,
    );
    expect(await cache.latencies(["x", "y"])).toEqual(new Map([["x", undefined], ["y", undefined]]));
    await cache.latencies(["z"]); // evicts x
    await cache.latencies(["x", "y", "z"]);
    expect(probed).toEqual(["x", "y", "z", "x"]);
  });
});
