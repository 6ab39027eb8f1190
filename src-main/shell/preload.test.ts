import { EventEmitter } from "node:events";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { decodeBridgeError } from "../../src-contract/bridge-error.js";
import { dashboardCallNames, IPC_EVENT_CHANNEL, type DashboardApi, type DashboardEvent } from "../../src-contract/index.js";
import { waitingNodeStatus } from "./shell.test-support.js";

class FakeIpcRenderer extends EventEmitter {
  answers = new Map<string, unknown>();
  invoke = vi.fn(async (channel: string, ..._args: unknown[]) => this.answers.get(channel));
}

/** Electron's renderer side, faked: the preload may use only these two. */
const electron = vi.hoisted(() => ({ exposed: new Map<string, unknown>(), ipc: { current: undefined as unknown } }));
vi.mock("electron", () => {
  electron.ipc.current = new FakeIpcRenderer();
  return { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => electron.exposed.set(key, api) }, ipcRenderer: electron.ipc.current };
});

const status = waitingNodeStatus;

let ipc: FakeIpcRenderer;
let api: DashboardApi;
beforeEach(async () => {
  vi.resetModules();
  electron.exposed.clear();
  await import("./preload.js");
  ipc = electron.ipc.current as FakeIpcRenderer;
  ipc.removeAllListeners();
  ipc.answers.clear();
  ipc.invoke.mockClear();
  api = electron.exposed.get("inferswarm") as DashboardApi;
});

describe("the preload", () => {
  it("exposes exactly one function per contract call plus subscribe, under window.inferswarm only", () => {
    expect([...electron.exposed.keys()]).toEqual(["inferswarm"]);
    expect(Object.keys(api).sort()).toEqual([...dashboardCallNames, "subscribe"].sort());
    for (const value of Object.values(api)) expect(typeof value).toBe("function");
    expect(Object.isFrozen(api)).toBe(true);
  });

  it("invokes each call on its channel and returns the validated value", async () => {
    ipc.answers.set("inferswarm:getStatus", { ok: true, value: status });
    expect(await api.getStatus({})).toEqual(status);
    expect(ipc.invoke).toHaveBeenCalledWith("inferswarm:getStatus", {});
  });

  it("refuses a bad argument without sending it, the code kept in the message", async () => {
    const error = await api.setPaused({ paused: "yes" } as never).catch((e: unknown) => e);
    expect(ipc.invoke).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(Error);
    expect(decodeBridgeError(error).code).toBe("BAD_ARGUMENT");
  });

  it("turns the node's error outcome into an Error whose message carries the code", async () => {
    ipc.answers.set("inferswarm:exportEarningsCsv", { ok: false, error: { code: "LEDGER_UNAVAILABLE", message: "No ledger yet." } });
    const error = await api.exportEarningsCsv({ days: 7 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("[LEDGER_UNAVAILABLE] No ledger yet.");
    expect(decodeBridgeError(error)).toEqual({ code: "LEDGER_UNAVAILABLE", message: "No ledger yet." });
  });

  it("rejects a result that does not match the contract", async () => {
    ipc.answers.set("inferswarm:getStatus", { ok: true, value: { tray: "on-fire" } });
    expect(decodeBridgeError(await api.getStatus({}).catch((e: unknown) => e)).code).toBe("BAD_RESPONSE");
  });

  it("gives subscribers the event only, never the IPC event object, and drops malformed events", () => {
    const received: unknown[][] = [];
    const stop = api.subscribe((...args: unknown[]) => received.push(args));
    const event: DashboardEvent = { type: "status", status };
    ipc.emit(IPC_EVENT_CHANNEL, { sender: ipc, ports: [] }, event);
    ipc.emit(IPC_EVENT_CHANNEL, { sender: ipc, ports: [] }, { type: "status", status: "bad" });
    expect(received).toEqual([[event]]);
    stop();
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(0);
    ipc.emit(IPC_EVENT_CHANNEL, {}, event);
    expect(received).toHaveLength(1);
  });

  it("shares one IPC listener among subscribers and bounds their number", () => {
    const stops = Array.from({ length: 32 }, () => api.subscribe(() => {}));
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(1);
    expect(() => api.subscribe(() => {})).toThrow(/TOO_MANY_SUBSCRIBERS/);
    stops.forEach((stop) => stop());
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(0);
  });
});
