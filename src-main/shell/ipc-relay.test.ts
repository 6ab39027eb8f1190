import type { IpcMain } from "electron";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import { dashboardCallNames, ipcChannelFor } from "../../src-contract/index.js";
import { createSilentLogger } from "../common/index.js";
import type { DashboardGateway } from "./dashboard-gateway.js";
import { isTrustedSender, registerDashboardIpc, type IpcInvokeEventLike, type IpcMainLike, type SenderFrameLike } from "./ipc-relay.js";

type Handler = (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel) => handlers.delete(channel),
  };
  return { ipcMain, handlers };
}

const mainFrame = (url: string): SenderFrameLike => ({ url, parent: null });
const subFrame = (url: string): SenderFrameLike => ({ url, parent: mainFrame("app://dashboard/index.html") });

function setup() {
  const { ipcMain, handlers } = fakeIpcMain();
  const gateway = vi.fn<DashboardGateway>(async (name) => ({ ok: true, value: `answer to ${name}` }));
  const unregister = registerDashboardIpc({ ipcMain, gateway, logger: createSilentLogger() });
  const invoke = (name: string, frame: SenderFrameLike | null, ...args: unknown[]) => handlers.get(`inferswarm:${name}`)!({ senderFrame: frame }, ...args);
  return { handlers, gateway, unregister, invoke };
}

describe("IPC sender validation", () => {
  it("accepts only the dashboard's main frame on app://dashboard", () => {
    expect(isTrustedSender(mainFrame("app://dashboard/index.html"))).toBe(true);
    expect(isTrustedSender(mainFrame("app://dashboard/"))).toBe(true);
    expect(isTrustedSender(subFrame("app://dashboard/index.html"))).toBe(false);
    expect(isTrustedSender(mainFrame("http://evil.example/"))).toBe(false);
    expect(isTrustedSender(mainFrame("https://dashboard/"))).toBe(false);
    expect(isTrustedSender(mainFrame("file:///work/main/out/renderer/index.html"))).toBe(false);
    expect(isTrustedSender(mainFrame("app://evil/index.html"))).toBe(false);
    expect(isTrustedSender(mainFrame("app://dashboard.evil.example/"))).toBe(false);
    expect(isTrustedSender(mainFrame("not a url"))).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });

  it("is typed to take Electron's own ipcMain", () => {
    expectTypeOf<IpcMain>().toExtend<IpcMainLike>();
  });
});

describe("registerDashboardIpc", () => {
  it("handles every call of the contract on its derived channel, and nothing else", () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual(dashboardCallNames.map(ipcChannelFor).sort());
  });

  it("forwards a valid call from the dashboard with its parsed argument", async () => {
    const { gateway, invoke } = setup();
    expect(await invoke("listJobs", mainFrame("app://dashboard/index.html"), { limit: 20 })).toEqual({ ok: true, value: "answer to listJobs" });
    expect(gateway).toHaveBeenCalledWith("listJobs", { limit: 20 });
    await invoke("getStatus", mainFrame("app://dashboard/index.html"));
    expect(gateway).toHaveBeenLastCalledWith("getStatus", {});
  });

  it.each([
    ["a subframe", subFrame("app://dashboard/index.html")],
    ["http://evil", mainFrame("http://evil.example/")],
    ["file://", mainFrame("file:///tmp/index.html")],
    ["a destroyed frame", null],
  ])("refuses %s before anything reaches the core", async (_name, frame) => {
    const { gateway, invoke } = setup();
    expect(await invoke("setPaused", frame, { paused: true })).toMatchObject({ ok: false, error: { code: "IPC_FORBIDDEN" } });
    expect(gateway).not.toHaveBeenCalled();
  });

  it.each([
    ["setPaused", [{ paused: "yes" }]],
    ["listJobs", [{ limit: 100_000 }]],
    ["setMode", [{ mode: "always", extra: true }]],
    ["getStatus", [{}, "second argument"]],
    ["updateSettings", [{ policy: { idleAfterSeconds: -5 } }]],
  ])("refuses a bad argument to %s before the core is called", async (name, args) => {
    const { gateway, invoke } = setup();
    expect(await invoke(name, mainFrame("app://dashboard/index.html"), ...args)).toMatchObject({ ok: false, error: { code: "BAD_ARGUMENT" } });
    expect(gateway).not.toHaveBeenCalled();
  });

  it("removes every handler it registered", () => {
    const { handlers, unregister } = setup();
    unregister();
    expect(handlers.size).toBe(0);
  });
});
