import { describe, expect, it } from "vitest";
import type { ContributionDecision } from "../policy/index.js";
import { trayStateOf } from "./dashboard-service.js";

const decision = (reasonCode: ContributionDecision["reasonCode"], contribute = false): ContributionDecision => ({
  contribute,
  maxConcurrentJobs: contribute ? 2 : 0,
  reason: reasonCode,
  reasonCode,
  abortRunning: false,
});

describe("the tray's four states", () => {
  it("maps every policy reason to the state the owner needs to see", () => {
    expect(trayStateOf(decision("contributing", true), "always")).toBe("contributing");
    expect(trayStateOf(decision("paused-by-owner"), "paused")).toBe("paused");
    expect(trayStateOf(null, "when-idle")).toBe("paused");
    expect(trayStateOf(decision("too-hot"), "always")).toBe("too-hot");
    expect(trayStateOf(decision("power-limit"), "always")).toBe("too-hot");
    for (const waiting of ["owner-active", "outside-schedule", "game-running", "gpu-in-use", "vram-low", "suspended"] as const) {
      expect(trayStateOf(decision(waiting), "when-idle")).toBe("waiting-for-idle");
    }
  });

  it("shows paused whenever the owner's mode is paused, whatever the last decision said", () => {
    expect(trayStateOf(decision("too-hot"), "paused")).toBe("paused");
  });
});
