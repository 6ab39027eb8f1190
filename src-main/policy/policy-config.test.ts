import { describe, expect, it } from "vitest";
import { isInferSwarmError } from "../common/index.js";
import { defaultPolicyConfig, parsePolicyConfig } from "./policy-config.js";

describe("policy config", () => {
  it("fills every default from an empty object", () => {
    expect(defaultPolicyConfig()).toEqual({
      mode: "when-idle",
      pauseKind: "soft",
      idleAfterSeconds: 300,
      schedule: [],
      limits: {
        maxTemperatureC: 83,
        temperatureResumeMarginC: 8,
        maxPowerW: null,
        maxPowerFractionOfLimit: 0.9,
        vramShare: 0.8,
        maxConcurrentJobs: 2,
      },
      pauseWhenGameRunning: true,
      pauseWhenOtherGpuUsers: "graphics",
      lockedCountsAsIdle: true,
    });
  });

  it("fills the limits' defaults around the ones given", () => {
    expect(parsePolicyConfig({ limits: { maxPowerW: 250 } }).limits).toMatchObject({ maxPowerW: 250, maxTemperatureC: 83, vramShare: 0.8 });
  });

  it.each([
    ["a window crossing midnight", { days: [5, 6], start: "22:00", end: "02:00" }],
    ["a window to the end of the day", { days: [0], start: "18:30", end: "24:00" }],
    ["a whole day", { days: [3], start: "00:00", end: "24:00" }],
  ])("accepts %s", (_name, window) => {
    expect(parsePolicyConfig({ mode: "schedule", schedule: [window] }).schedule).toEqual([window]);
  });

  it.each<[string, unknown, string]>([
    ["an unknown mode", { mode: "sometimes" }, "mode"],
    ["a day out of range", { schedule: [{ days: [7], start: "10:00", end: "11:00" }] }, "schedule.0.days.0"],
    ["no days", { schedule: [{ days: [], start: "10:00", end: "11:00" }] }, "schedule.0.days"],
    ["a malformed time", { schedule: [{ days: [1], start: "9:00", end: "11:00" }] }, "schedule.0.start"],
    ["24:00 as a start", { schedule: [{ days: [1], start: "24:00", end: "11:00" }] }, "schedule.0.start"],
    ["start equal to end", { schedule: [{ days: [1], start: "10:00", end: "10:00" }] }, "schedule.0.end"],
    ["a VRAM share above 1", { limits: { vramShare: 1.5 } }, "limits.vramShare"],
    ["zero concurrent jobs", { limits: { maxConcurrentJobs: 0 } }, "limits.maxConcurrentJobs"],
    ["a negative idle time", { idleAfterSeconds: -1 }, "idleAfterSeconds"],
    ["an unknown GPU-user setting", { pauseWhenOtherGpuUsers: "sometimes" }, "pauseWhenOtherGpuUsers"],
  ])("rejects %s, naming the field", (_name, input, field) => {
    let thrown: unknown;
    try {
      parsePolicyConfig(input);
    } catch (error) {
      thrown = error;
    }
    expect(isInferSwarmError(thrown, "POLICY_CONFIG_INVALID")).toBe(true);
    expect((thrown as Error).message).toContain(`${field}:`);
  });
});
