import { describe, expect, it } from "vitest";
import { createPeerBackoff, DEFAULT_BACKOFF } from "./peer-backoff.js";

function setup(random: () => number = () => 0, maxPeers = DEFAULT_BACKOFF.maxPeers) {
  let now = 1_000_000;
  const backoff = createPeerBackoff({ ...DEFAULT_BACKOFF, maxPeers }, { now: () => now }, random);
  return { backoff, advance: (ms: number) => (now += ms), now: () => now };
}

describe("peer backoff", () => {
  it("doubles from 2 s per consecutive failure up to 5 min", () => {
    const { backoff, now, advance } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const until = backoff.failed("p");
      delays.push(until - now());
      advance(until - now());
    }
    expect(delays).toEqual([2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
  });

  it("applies jitter downwards, within the configured fraction", () => {
    const { backoff, now } = setup(() => 0.5);
    expect(backoff.failed("p") - now()).toBe(2000 * (1 - 0.2 * 0.5));
  });

  it("skips a peer only until its backoff expires", () => {
    const { backoff, advance } = setup();
    backoff.failed("p");
    expect(backoff.backedOffUntil("p")).toBeDefined();
    advance(1999);
    expect(backoff.backedOffUntil("p")).toBeDefined();
    advance(1);
    expect(backoff.backedOffUntil("p")).toBeUndefined();
  });

  it("starts over after a success, or after a long quiet spell", () => {
    const { backoff, now, advance } = setup();
    backoff.failed("p");
    backoff.failed("p");
    backoff.succeeded("p");
    expect(backoff.backedOffUntil("p")).toBeUndefined();
    expect(backoff.failed("p") - now()).toBe(2000);
    backoff.failed("p");
    advance(4000 + DEFAULT_BACKOFF.maxMs);
    expect(backoff.failed("p") - now()).toBe(2000);
  });

  it("skips a busy peer briefly, without escalating and without shortening a real backoff", () => {
    const { backoff, now, advance } = setup();
    for (let i = 0; i < 5; i++) {
      expect(backoff.busy("p") - now()).toBe(DEFAULT_BACKOFF.busyMs);
      advance(DEFAULT_BACKOFF.busyMs);
    }
    expect(backoff.failed("p") - now()).toBe(2000);
    const until = backoff.backedOffUntil("p");
    expect(backoff.busy("p")).toBe(until);
  });

  it("remembers at most maxPeers peers, forgetting the least recently failed", () => {
    const { backoff } = setup(() => 0, 3);
    for (const peerId of ["a", "b", "c", "d"]) backoff.failed(peerId);
    expect(backoff.size()).toBe(3);
    expect(backoff.backedOffUntil("a")).toBeUndefined();
    expect(backoff.backedOffUntil("d")).toBeDefined();
  });
});
