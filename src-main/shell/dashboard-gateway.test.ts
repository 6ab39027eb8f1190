import { describe, expect, it, vi } from "vitest";
import type { DashboardCallName, DashboardCallOutcome } from "../../src-contract/index.js";
import { createDashboardGateway, type StartAtLogin } from "./dashboard-gateway.js";

function setup(core: (name: DashboardCallName, args: unknown) => DashboardCallOutcome<unknown> = () => ({ ok: true, value: { policy: {}, startAtLogin: null } })) {
  let enabled = false;
  const startAtLogin: StartAtLogin = {
    get: vi.fn(async () => enabled),
    set: vi.fn(async (value: boolean) => {
      enabled = value;
    }),
  };
  const callCore = vi.fn(async (name: DashboardCallName, args: unknown) => core(name, args));
  return { gateway: createDashboardGateway({ callCore, startAtLogin }), callCore, startAtLogin };
}

describe("the shell's dashboard gateway", () => {
  it("passes ordinary calls through to the core untouched", async () => {
    const { gateway, callCore } = setup(() => ({ ok: true, value: "status" }));
    expect(await gateway("getStatus", {})).toEqual({ ok: true, value: "status" });
    expect(callCore).toHaveBeenCalledWith("getStatus", {});
  });

  it("answers settings with the shell's start-at-login instead of the core's null", async () => {
    const { gateway } = setup();
    expect(await gateway("getSettings", {})).toEqual({ ok: true, value: { policy: {}, startAtLogin: false } });
  });

  it("applies start at login itself and never sends it to the core", async () => {
    const { gateway, callCore, startAtLogin } = setup();
    const answer = await gateway("updateSettings", { startAtLogin: true, policy: { idleAfterSeconds: 60 } });
    expect(startAtLogin.set).toHaveBeenCalledWith(true);
    expect(callCore).toHaveBeenCalledWith("updateSettings", { policy: { idleAfterSeconds: 60 } });
    expect(answer).toEqual({ ok: true, value: { policy: {}, startAtLogin: true } });
  });

  it("reports a failure to change start at login with its own code", async () => {
    const { gateway, startAtLogin, callCore } = setup();
    vi.mocked(startAtLogin.set).mockRejectedValueOnce(new Error("EACCES: permission denied"));
    expect(await gateway("updateSettings", { startAtLogin: true })).toEqual({
      ok: false,
      error: { code: "START_AT_LOGIN_FAILED", message: "Could not turn on start at login: EACCES: permission denied" },
    });
    expect(callCore).not.toHaveBeenCalled();
  });

  it("leaves the core's errors as they are", async () => {
    const { gateway } = setup(() => ({ ok: false, error: { code: "BAD_SETTINGS", message: "limit too high" } }));
    expect(await gateway("updateSettings", { policy: { idleAfterSeconds: 60 } })).toEqual({ ok: false, error: { code: "BAD_SETTINGS", message: "limit too high" } });
  });
});
