import { describe, expect, it } from "vitest";
import { createFakeTime, settle } from "../common/index.js";
import type { IdleListener, IdleReading, IdleSource } from "../policy/index.js";
import { createIdleRelay } from "./idle-relay.js";

function fakeSource() {
  const listeners = new Set<IdleListener>();
  let reading: IdleReading = { idleSeconds: 10, locked: false, suspended: false };
  const source: IdleSource = {
    read: async () => reading,
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => listeners.clear(),
  };
  return {
    source,
    set: (next: IdleReading) => (reading = next),
    push: (next: IdleReading) => listeners.forEach((l) => l(next)),
    listeners: () => listeners.size,
  };
}

describe("the idle relay", () => {
  it("sends a reading at once, then a heartbeat every interval", async () => {
    const time = createFakeTime();
    const fake = fakeSource();
    const sent: IdleReading[] = [];
    createIdleRelay({ source: fake.source, send: (r) => sent.push(r), timers: time.timers, intervalMs: 5_000 });
    await settle();
    expect(sent).toEqual([{ idleSeconds: 10, locked: false, suspended: false }]);
    fake.set({ idleSeconds: 15, locked: false, suspended: false });
    await time.advance(5_000);
    fake.set({ idleSeconds: 20, locked: false, suspended: false });
    await time.advance(5_000);
    expect(sent.map((r) => r.idleSeconds)).toEqual([10, 15, 20]);
  });

  it("forwards changes the moment the source learns them", async () => {
    const time = createFakeTime();
    const fake = fakeSource();
    const sent: IdleReading[] = [];
    createIdleRelay({ source: fake.source, send: (r) => sent.push(r), timers: time.timers });
    await settle();
    fake.push({ idleSeconds: 0, locked: true, suspended: false });
    expect(sent.at(-1)).toEqual({ idleSeconds: 0, locked: true, suspended: false });
  });

  it("stops sending when closed", async () => {
    const time = createFakeTime();
    const fake = fakeSource();
    const sent: IdleReading[] = [];
    const relay = createIdleRelay({ source: fake.source, send: (r) => sent.push(r), timers: time.timers });
    await settle();
    relay.close();
    expect(fake.listeners()).toBe(0);
    expect(time.pendingTimers()).toBe(0);
    await time.advance(60_000);
    expect(sent).toHaveLength(1);
  });
});
