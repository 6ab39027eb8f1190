import { describe, expect, it } from "vitest";
import { createFakeDashboardApi } from "../test-support/fake-dashboard-api.js";
import { fieldErrorsFrom } from "./call-error.js";
import { createSettingsStore } from "./settings-store.js";

describe("settings store", () => {
  it("saves through updateSettings and holds the node's answer", async () => {
    const api = createFakeDashboardApi();
    const store = createSettingsStore(api, () => 42);
    await store.getState().load();
    expect(await store.getState().save({ policy: { limits: { maxTemperatureC: 78 } } })).toBe(true);
    expect(api.callsTo("updateSettings")).toEqual([{ policy: { limits: { maxTemperatureC: 78 } } }]);
    expect(store.getState().settings?.policy.limits.maxTemperatureC).toBe(78);
    expect(store.getState().settings?.policy.limits.vramShare).toBe(0.8);
    expect(store.getState().savedAt).toBe(42);
  });

  it("turns the node's refusal into field errors", async () => {
    const store = createSettingsStore(createFakeDashboardApi());
    await store.getState().load();
    expect(await store.getState().save({ policy: { limits: { maxTemperatureC: 130 } } })).toBe(false);
    expect(store.getState().saveError?.code).toBe("BAD_SETTINGS");
    expect(store.getState().fieldErrors).toEqual({ "limits.maxTemperatureC": "Too big: expected number to be <=110" });
    expect(store.getState().settings?.policy.limits.maxTemperatureC).toBe(83);
  });

  it("turns the contract's own argument check into field errors too", async () => {
    const store = createSettingsStore(createFakeDashboardApi());
    expect(await store.getState().save({ policy: { idleAfterSeconds: -5 } })).toBe(false);
    expect(store.getState().saveError?.code).toBe("BAD_ARGUMENT");
    expect(Object.keys(store.getState().fieldErrors)).toEqual(["idleAfterSeconds"]);
  });
});

describe("fieldErrorsFrom", () => {
  it("reads every 'path: message' of a BAD_ARGUMENT or BAD_SETTINGS message, paths relative to policy", () => {
    expect(
      fieldErrorsFrom({
        code: "BAD_SETTINGS",
        message: "The contribution settings are invalid (limits.vramShare: Too big: expected number to be <=1; schedule.0.end: start and end are the same). Fix these fields or remove them to use the defaults.",
      }),
    ).toEqual({ "limits.vramShare": "Too big: expected number to be <=1", "schedule.0.end": "start and end are the same" });
    expect(fieldErrorsFrom({ code: "BAD_ARGUMENT", message: "updateSettings was called with an invalid argument (startAtLogin: Invalid input: expected boolean, received string)." })).toEqual({
      startAtLogin: "Invalid input: expected boolean, received string",
    });
  });

  it("finds none in other errors", () => {
    expect(fieldErrorsFrom({ code: "START_AT_LOGIN_UNSUPPORTED", message: "A headless node cannot manage start at login (use systemd: a: b)." })).toEqual({});
  });
});
