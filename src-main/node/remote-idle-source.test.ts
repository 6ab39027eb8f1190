import { describe, expect, it } from "vitest";
import { createFakeTime } from "../common/index.js";
import type { IdleReading } from "../policy/index.js";
import { createRemoteIdleSource, OWNER_PRESENT } from "./remote-idle-source.js";

function setup(staleAfterMs = 10_000) {
  const time = createFakeTime();
  const source = createRemoteIdleSource({ clock: time.clock, timers: time.timers, staleAfterMs });
  const pushed: IdleReading[] = [];
  source.onChange((reading) => pushed.push(reading));
  return { time, source, pushed };
}

describe("createRemoteIdleSource", () => {
  it("reports the owner present before the shell has sent anything", async () => {
    const { source } = setup();
    expect(await source.read()).toEqual(OWNER_PRESENT);
  });

  it("answers with the shell's last reading, the idle time growing with the clock", async () => {
    const { time, source, pushed } = setup();
    source.push({ idleSeconds: 300, locked: true, suspended: false });
    expect(pushed).toEqual([{ idleSeconds: 300, locked: true, suspended: false }]);
    await time.advance(4_000);
    expect(await source.read()).toEqual({ idleSeconds: 304, locked: true, suspended: false });
  });

  it("counts the owner present once readings stop for longer than the staleness limit, and says so at once", async () => {
    const { time, source, pushed } = setup(10_000);
    source.push({ idleSeconds: 900, locked: false, suspended: false });
    await time.advance(10_000);
    expect((await source.read()).idleSeconds).toBe(910);
    await time.advance(5);
    expect(await source.read()).toEqual(OWNER_PRESENT);
    expect(pushed.at(-1)).toEqual(OWNER_PRESENT);
  });

  it("a fresh reading keeps it from going stale", async () => {
    const { time, source, pushed } = setup(10_000);
    for (let i = 0; i < 5; i++) {
      source.push({ idleSeconds: 600 + i * 5, locked: false, suspended: false });
      await time.advance(5_000);
    }
    expect((await source.read()).idleSeconds).toBe(625);
    expect(pushed.filter((r) => r.idleSeconds === 0)).toEqual([]);
  });

  it("stops telling listeners and drops its timer when closed", async () => {
    const { time, source, pushed } = setup();
    source.push({ idleSeconds: 1, locked: false, suspended: false });
    source.close();
    expect(time.pendingTimers()).toBe(0);
    source.push({ idleSeconds: 2, locked: false, suspended: false });
    expect(pushed).toHaveLength(1);
  });
});
