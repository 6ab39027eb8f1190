import { describe, expect, it } from "vitest";
import { createFakeTime, createSilentLogger, settle } from "../common/index.js";
import type { ContributionDecision } from "./contribution-policy.js";
import type { PolicyTelemetrySample } from "./gpu-limits.js";
import type { IdleListener, IdleReading, IdleSource } from "./idle-source.js";
import type { PolicyConfigInput } from "./policy-config.js";
import { createPolicyController, type AdmissionTarget, type GameState } from "./policy-controller.js";

const START = Date.UTC(2025, 0, 6, 12, 0);
const INTERVAL = 2000;

interface FakeIdle {
  reading: IdleReading;
  /** When set, read() waits on this instead of answering at once. */
  pendingRead: Promise<IdleReading> | null;
  failRead: boolean;
  push(reading: IdleReading): void;
  source: IdleSource;
  listenerCount(): number;
}

function fakeIdleSource(initial: IdleReading): FakeIdle {
  const listeners = new Set<IdleListener>();
  const fake: FakeIdle = {
    reading: initial,
    pendingRead: null,
    failRead: false,
    push(reading) {
      fake.reading = reading;
      for (const listener of listeners) listener(reading);
    },
    source: {
      read: () => {
        if (fake.failRead) return Promise.reject(new Error("no idle information"));
        return fake.pendingRead ?? Promise.resolve(fake.reading);
      },
      onChange(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      close: () => listeners.clear(),
    },
    listenerCount: () => listeners.size,
  };
  return fake;
}

function fakeTarget() {
  const admissions: Array<{ accepting: boolean; maxActiveJobs: number; reason?: string }> = [];
  const aborts: string[] = [];
  const target: AdmissionTarget = {
    setAdmission: (admission) => admissions.push(admission),
    abortRunning: (reason) => aborts.push(reason),
  };
  return { target, admissions, aborts, last: () => admissions.at(-1) };
}

function setup(config: PolicyConfigInput = { mode: "always" }) {
  const time = createFakeTime(START);
  const idle = fakeIdleSource({ idleSeconds: 0, locked: false, suspended: false });
  const target = fakeTarget();
  const world = {
    temperatureC: 60 as number | null,
    game: { gameRunning: false, games: [], otherGpuUsers: [] } as GameState,
    gameFails: false,
  };
  const controller = createPolicyController({
    config,
    idleSource: idle.source,
    readTelemetry: (): PolicyTelemetrySample => ({ gpus: [{ temperatureC: world.temperatureC, powerW: 100, powerLimitW: 300 }] }),
    readGameState: () => (world.gameFails ? Promise.reject(new Error("process list unavailable")) : Promise.resolve(world.game)),
    ourVramBytes: () => 0,
    target: target.target,
    clock: time.clock,
    timers: time.timers,
    intervalMs: INTERVAL,
    logger: createSilentLogger(),
  });
  const tick = () => time.advance(INTERVAL);
  return { controller, time, idle, target, world, tick };
}

describe("createPolicyController", () => {
  it("decides and applies admission on start, then on every tick", async () => {
    const { controller, target, tick } = setup();
    await controller.start();
    expect(controller.decision()).toMatchObject({ contribute: true, maxConcurrentJobs: 2, reasonCode: "contributing" });
    expect(target.admissions).toEqual([{ accepting: true, maxActiveJobs: 2 }]);
    await tick();
    await tick();
    expect(target.admissions).toHaveLength(3);
    await controller.stop();
  });

  it("aborts once when a game appears, stops admitting while it runs, and re-admits after", async () => {
    const { controller, target, world, tick } = setup();
    await controller.start();
    world.game = { gameRunning: true, games: ["Cyberpunk2077.exe"], otherGpuUsers: [] };
    await tick();
    await tick();
    await tick();
    expect(target.aborts).toHaveLength(1);
    expect(target.last()).toMatchObject({ accepting: false, maxActiveJobs: 0 });
    expect(controller.decision()?.reason).toBe("Paused: Cyberpunk2077.exe is running");
    world.game = { gameRunning: false, games: [], otherGpuUsers: [] };
    await tick();
    expect(target.last()).toEqual({ accepting: true, maxActiveJobs: 2 });
    expect(target.aborts).toHaveLength(1);
    await controller.stop();
  });

  it("tells the engine (and so requesters) only the kind of reason, never the game", async () => {
    const { controller, target, world, tick } = setup();
    await controller.start();
    world.game = { gameRunning: true, games: ["Cyberpunk2077.exe"], otherGpuUsers: [] };
    await tick();
    expect(target.aborts).toEqual(["the owner needs the GPU"]);
    expect(target.last()?.reason).toBe("the owner needs the GPU");
    await controller.stop();
  });

  it("soft pause stops admitting at once, without an abort; resume re-admits at once", async () => {
    const { controller, target } = setup();
    await controller.start();
    const paused = controller.setConfig({ mode: "paused", pauseKind: "soft" });
    // Applied before any await: the owner's click does not wait for a tick or a process spawn.
    expect(target.last()).toMatchObject({ accepting: false, maxActiveJobs: 0 });
    await paused;
    expect(target.aborts).toEqual([]);
    expect(controller.decision()?.reasonCode).toBe("paused-by-owner");
    const resumed = controller.setConfig({ mode: "always" });
    expect(target.last()).toEqual({ accepting: true, maxActiveJobs: 2 });
    await resumed;
    await controller.stop();
  });

  it("hard pause aborts running jobs once, however many ticks it lasts", async () => {
    const { controller, target, tick } = setup();
    await controller.start();
    await controller.setConfig({ mode: "paused", pauseKind: "hard" });
    await tick();
    await tick();
    expect(target.aborts).toHaveLength(1);
    expect(target.last()).toMatchObject({ accepting: false });
    await controller.setConfig({ mode: "always" });
    expect(target.last()).toEqual({ accepting: true, maxActiveJobs: 2 });
    expect(controller.config().mode).toBe("always");
    await controller.stop();
  });

  it("a soft pause turned hard aborts then", async () => {
    const { controller, target } = setup({ mode: "paused" });
    await controller.start();
    expect(target.aborts).toHaveLength(0);
    await controller.setConfig({ mode: "paused", pauseKind: "hard" });
    expect(target.aborts).toHaveLength(1);
    await controller.stop();
  });

  it("trips on heat and recovers with hysteresis over ticks (80, 83 → stop, 82, 76, null, 75 → resume)", async () => {
    const { controller, target, world, tick } = setup();
    await controller.start();
    const seen: Array<[boolean, number]> = [];
    for (const temperatureC of [80, 83, 82, 76, null, 75]) {
      world.temperatureC = temperatureC;
      await tick();
      const last = target.last();
      seen.push([last?.accepting ?? true, last?.maxActiveJobs ?? -1]);
    }
    expect(seen).toEqual([
      [true, 1], // 80 °C: within 5 °C of the limit, one job at a time
      [false, 0],
      [false, 0],
      [false, 0],
      [false, 0],
      [true, 2],
    ]);
    expect(target.aborts).toHaveLength(1);
    await controller.stop();
  });

  it("tells subscribers about changes only", async () => {
    const { controller, world, tick } = setup();
    const decisions: ContributionDecision[] = [];
    const unsubscribe = controller.subscribe((decision) => decisions.push(decision));
    await controller.start();
    await tick();
    await tick();
    world.temperatureC = 90;
    await tick();
    await tick();
    expect(decisions.map((d) => d.reasonCode)).toEqual(["contributing", "too-hot"]);
    unsubscribe();
    world.temperatureC = 50;
    await tick();
    expect(decisions).toHaveLength(2);
    await controller.stop();
  });

  it("applies a pushed suspend at once, and resumes after wake", async () => {
    const { controller, idle, target } = setup();
    await controller.start();
    idle.push({ idleSeconds: 0, locked: false, suspended: true });
    // Synchronous: the process may be frozen before a promise settles.
    expect(target.last()).toMatchObject({ accepting: false });
    expect(target.aborts).toHaveLength(1);
    await settle();
    idle.push({ idleSeconds: 0, locked: false, suspended: false });
    await settle();
    expect(target.last()).toEqual({ accepting: true, maxActiveJobs: 2 });
    expect(target.aborts).toHaveLength(1);
    await controller.stop();
  });

  it("a change pushed during a slow read is not overwritten by that read's older answer", async () => {
    const { controller, idle, target, tick } = setup();
    await controller.start();
    let answer!: (reading: IdleReading) => void;
    idle.pendingRead = new Promise((resolve) => (answer = resolve));
    await tick(); // a tick's read is now under way
    idle.push({ idleSeconds: 0, locked: false, suspended: true });
    answer({ idleSeconds: 0, locked: false, suspended: false });
    idle.pendingRead = null;
    await settle();
    expect(controller.decision()?.reasonCode).toBe("suspended");
    expect(target.admissions.filter((a) => a.accepting).length).toBe(1); // only the first, before the suspend
    await controller.stop();
  });

  it("waits for the owner to be idle long enough in when-idle mode", async () => {
    const { controller, idle, target, tick } = setup({ mode: "when-idle", idleAfterSeconds: 5 });
    await controller.start();
    expect(controller.decision()?.reasonCode).toBe("owner-active");
    idle.reading = { idleSeconds: 4, locked: false, suspended: false };
    await tick();
    expect(target.last()?.accepting).toBe(false);
    idle.reading = { idleSeconds: 6, locked: false, suspended: false };
    await tick();
    expect(target.last()?.accepting).toBe(true);
    await controller.stop();
  });

  it("assumes the owner is present when idle state cannot be read", async () => {
    const { controller, idle } = setup({ mode: "when-idle" });
    idle.failRead = true;
    await controller.start();
    expect(controller.decision()?.reasonCode).toBe("owner-active");
    await controller.stop();
  });

  it("keeps the last known game when the game detector fails", async () => {
    const { controller, world, tick } = setup();
    await controller.start();
    world.game = { gameRunning: true, games: ["game.exe"], otherGpuUsers: [] };
    await tick();
    world.gameFails = true;
    world.game = { gameRunning: false, games: [], otherGpuUsers: [] };
    await tick();
    expect(controller.decision()?.reasonCode).toBe("game-running");
    await controller.stop();
  });

  it("rejects invalid settings and keeps the ones in force", async () => {
    const { controller } = setup();
    await controller.start();
    await expect(controller.setConfig({ mode: "sometimes" } as unknown as PolicyConfigInput)).rejects.toMatchObject({ code: "POLICY_CONFIG_INVALID" });
    expect(controller.config().mode).toBe("always");
    await controller.stop();
  });

  it("stores settings while stopped without touching the engine", async () => {
    const { controller, target } = setup();
    expect(await controller.setConfig({ mode: "paused", pauseKind: "hard" })).toBeNull();
    expect(target.admissions).toEqual([]);
    expect(target.aborts).toEqual([]);
  });

  it("stops ticking and listening when stopped", async () => {
    const { controller, idle, target, time, tick } = setup();
    await controller.start();
    expect(idle.listenerCount()).toBe(1);
    await controller.stop();
    const applied = target.admissions.length;
    await tick();
    await tick();
    expect(target.admissions).toHaveLength(applied);
    expect(time.pendingTimers()).toBe(0);
    expect(idle.listenerCount()).toBe(0);
  });
});
