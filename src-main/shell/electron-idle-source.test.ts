import { EventEmitter } from "node:events";
// Types only: the Electron binary cannot run here, and this test must not need it.
import type { PowerMonitor } from "electron";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { Timers } from "../common/index.js";
import type { IdleReading } from "../policy/index.js";
import { createElectronIdleSource, type PowerMonitorLike } from "./electron-idle-source.js";

class FakePowerMonitor extends EventEmitter implements PowerMonitorLike {
  idleSeconds = 0;
  idleState: "active" | "idle" | "locked" | "unknown" = "unknown";
  getSystemIdleTime(): number {
    return this.idleSeconds;
  }
  getSystemIdleState(): "active" | "idle" | "locked" | "unknown" {
    return this.idleState;
  }
}

/** Timers fired by hand: `fire()` runs every pending callback once, like one poll period passing. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let nextId = 1;
  const timers: Timers = {
    setTimeout(callback) {
      const id = nextId++;
      pending.set(id, callback);
      return id;
    },
    clearTimeout: (handle) => pending.delete(handle as number),
  };
  return {
    timers,
    fire() {
      const due = [...pending];
      pending.clear();
      for (const [, callback] of due) callback();
    },
    pending: () => pending.size,
  };
}

function setup() {
  const powerMonitor = new FakePowerMonitor();
  const time = manualTimers();
  const source = createElectronIdleSource({ powerMonitor, timers: time.timers, pollMs: 1000 });
  const pushed: IdleReading[] = [];
  source.onChange((reading) => pushed.push(reading));
  return { powerMonitor, time, source, pushed };
}

describe("createElectronIdleSource", () => {
  it("accepts Electron's own powerMonitor", () => {
    expectTypeOf<PowerMonitor>().toExtend<PowerMonitorLike>();
  });

  it("reads the system idle time", async () => {
    const { powerMonitor, source } = setup();
    powerMonitor.idleSeconds = 42;
    expect(await source.read()).toEqual({ idleSeconds: 42, locked: false, suspended: false });
  });

  it.each<[string, Array<"lock-screen" | "unlock-screen" | "suspend" | "resume">, Partial<IdleReading>]>([
    ["lock", ["lock-screen"], { locked: true }],
    ["lock then unlock", ["lock-screen", "unlock-screen"], { locked: false }],
    ["suspend", ["suspend"], { suspended: true }],
    ["suspend then resume", ["suspend", "resume"], { suspended: false }],
  ])("pushes each event and reports its state: %s", async (_name, events, expected) => {
    const { powerMonitor, source, pushed } = setup();
    for (const event of events) powerMonitor.emit(event);
    expect(pushed).toHaveLength(events.length);
    expect(pushed.at(-1)).toMatchObject(expected);
    expect(await source.read()).toMatchObject(expected);
  });

  it("reads a lock from the idle state where no lock event exists (Linux)", async () => {
    const { powerMonitor, source } = setup();
    powerMonitor.idleState = "locked";
    expect((await source.read()).locked).toBe(true);
  });

  it("polls the idle time and pushes when the owner comes back", () => {
    const { powerMonitor, time, pushed } = setup();
    for (const idleSeconds of [1, 2, 3]) {
      powerMonitor.idleSeconds = idleSeconds;
      time.fire();
    }
    expect(pushed).toEqual([]);
    powerMonitor.idleSeconds = 0;
    time.fire();
    expect(pushed).toEqual([{ idleSeconds: 0, locked: false, suspended: false }]);
    time.fire();
    expect(pushed).toHaveLength(1);
  });

  it("stops polling and listening when closed", () => {
    const { powerMonitor, time, source, pushed } = setup();
    expect(powerMonitor.listenerCount("suspend")).toBe(1);
    source.close();
    expect(time.pending()).toBe(0);
    for (const event of ["lock-screen", "unlock-screen", "suspend", "resume"]) expect(powerMonitor.listenerCount(event)).toBe(0);
    powerMonitor.emit("suspend");
    expect(pushed).toEqual([]);
  });
});
