import { EventEmitter } from "node:events";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { CORE_PORT_PROTOCOL, mainToCoreMessageSchema, type MainToCoreMessage } from "../../src-contract/core-port.js";
import { dashboardCallNames, IPC_EVENT_CHANNEL, ipcChannelFor, type NodeStatusView } from "../../src-contract/index.js";
import { settle } from "../common/index.js";

const status: NodeStatusView = {
  peerId: "12D3KooWpeer",
  addresses: [],
  mode: "when-idle",
  resumeMode: "when-idle",
  tray: "waiting-for-idle",
  decision: { contribute: false, reasonCode: "owner-active", reason: "Waiting for 5 minutes of idle time (idle 42 s)", at: 1 },
  models: [],
  peers: 0,
  workersSeen: 0,
  jobs: { answered: 0, failed: 0, gone: 0, tokensGenerated: 0 },
  startedAt: 1,
};

/** A core that answers like the real one. */
class FakeUtilityProcess extends EventEmitter {
  received: MainToCoreMessage[] = [];
  constructor(readonly modulePath: string) {
    super();
    setImmediate(() => this.emit("message", { type: "ready", protocol: CORE_PORT_PROTOCOL }));
  }
  postMessage(raw: unknown) {
    const message = mainToCoreMessageSchema.parse(raw);
    this.received.push(message);
    if (message.type !== "request") return;
    const value = message.method === "start" ? { peerId: status.peerId } : message.method === "call" ? (message.name === "getStatus" ? status : { available: false }) : {};
    setImmediate(() => this.emit("message", { type: "response", id: message.id, outcome: { ok: true, value } }));
  }
  kill() {
    this.emit("exit", 0);
    return true;
  }
}

/** Electron's main-process API, faked as small objects that record what main.ts does with them. */
const fake = vi.hoisted(() => ({ userData: "", state: {} as Record<string, unknown> }));
vi.mock("electron", async () => {
  const { EventEmitter: Emitter } = await import("node:events");
  const record = <T>(key: string, value: T): T => {
    const list = (fake.state[key] ??= []) as T[];
    list.push(value);
    return value;
  };
  const app = Object.assign(new Emitter(), {
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    isReady: () => true,
    isPackaged: false,
    getAppPath: () => "/repo",
    getPath: () => fake.userData,
    getLoginItemSettings: () => ({ openAtLogin: false, wasOpenedAtLogin: false }),
    setLoginItemSettings: () => {},
    quit: () => {},
    exit: () => {},
  });
  class BrowserWindow extends Emitter {
    webContents = { send: (...args: unknown[]) => record("sent", args) };
    constructor(readonly options: unknown) {
      super();
      record("windows", this);
    }
    loadURL = async (url: string) => record("loaded", url);
    isDestroyed = () => false;
    isMinimized = () => false;
    show() {}
    focus() {}
    restore() {}
  }
  class Tray extends Emitter {
    tooltips: string[] = [];
    menus: unknown[] = [];
    constructor() {
      super();
      record("trays", this);
    }
    setImage() {}
    setToolTip(text: string) {
      this.tooltips.push(text);
    }
    setContextMenu(menu: unknown) {
      this.menus.push(menu);
    }
    destroy() {}
  }
  class Notification {
    static isSupported = () => true;
    constructor(readonly options: unknown) {}
    show() {}
  }
  return {
    app,
    BrowserWindow,
    Tray,
    Notification,
    Menu: { buildFromTemplate: (template: unknown) => template },
    nativeImage: { createFromPath: (file: string) => file },
    ipcMain: { handle: (channel: string, listener: unknown) => record("ipc", [channel, listener]), removeHandler: () => {} },
    protocol: { registerSchemesAsPrivileged: (schemes: unknown) => record("privileged", schemes), handle: (scheme: string, handler: unknown) => record("protocols", [scheme, handler]) },
    session: { defaultSession: { setPermissionRequestHandler: () => record("permissions", "request"), setPermissionCheckHandler: () => record("permissions", "check"), setDevicePermissionHandler: () => {} } },
    shell: { openExternal: async () => {} },
    powerMonitor: Object.assign(new Emitter(), { getSystemIdleTime: () => 7, getSystemIdleState: () => "active" }),
    safeStorage: { isAsyncEncryptionAvailable: async () => true, getSelectedStorageBackend: () => "basic_text", encryptStringAsync: async () => Buffer.alloc(0), decryptStringAsync: async () => ({ result: "", shouldReEncrypt: false }) },
    utilityProcess: { fork: (modulePath: string) => record("cores", new (fake.state.FakeUtilityProcess as typeof FakeUtilityProcess)(modulePath)) },
  };
});

/** Waits (bounded: 10 s) for `check`: the composition does real file I/O, which a loaded machine slows. */
async function until(check: () => boolean) {
  const deadline = Date.now() + 10_000;
  while (!check() && Date.now() < deadline) {
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(check()).toBe(true);
}

describe("the main process's composition", () => {
  it("wires the protocol, window, IPC, tray and core together", async () => {
    vi.stubEnv("INFERSWARM_LOG_LEVEL", "silent");
    fake.userData = await mkdtemp(path.join(os.tmpdir(), "inferswarm-main-"));
    fake.state.FakeUtilityProcess = FakeUtilityProcess;
    await import("./main.js");
    const state = fake.state as Record<string, unknown[] | undefined>;
    const list = (key: string) => state[key] ?? [];

    expect(state.privileged).toEqual([[{ scheme: "app", privileges: expect.objectContaining({ standard: true, secure: true }) }]]);
    await until(() => list("cores").length > 0 && list("trays").length > 0);
    expect((list("protocols")[0] as unknown[])[0]).toBe("app");
    expect(state.permissions).toEqual(expect.arrayContaining(["request", "check"]));
    expect(list("ipc").map((entry) => (entry as unknown[])[0]).sort()).toEqual(dashboardCallNames.map(ipcChannelFor).sort());

    const core = list("cores")[0] as FakeUtilityProcess;
    expect(path.basename(core.modulePath)).toBe("core.js");
    await until(() => core.received.some((m) => m.type === "request" && m.method === "start"));
    // No keyring here (basic_text): the core keeps the key in its own 0600 file.
    expect(core.received.find((m) => m.type === "request" && m.method === "start")).toMatchObject({ params: { privateKey: null, identityStorage: { kind: "plaintext-file" } } });
    expect(core.received.some((m) => m.type === "idle")).toBe(true);

    const tray = list("trays")[0] as { tooltips: string[]; menus: unknown[] };
    await until(() => tray.tooltips.at(-1) === "InferSwarm: Waiting for idle — Waiting for 5 minutes of idle time (idle 42 s)");
    expect(tray.menus.length).toBe(tray.tooltips.length);

    const window = list("windows")[0] as { options: { webPreferences: Record<string, unknown> } };
    expect(window.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(state.loaded).toEqual(["app://dashboard/index.html"]);

    const [, handler] = list("ipc").find((entry) => (entry as unknown[])[0] === "inferswarm:getStatus") as [string, (event: unknown, args: unknown) => Promise<unknown>];
    expect(await handler({ senderFrame: { url: "app://dashboard/index.html", parent: null } }, {})).toEqual({ ok: true, value: status });
    expect(await handler({ senderFrame: { url: "https://evil.example/", parent: null } }, {})).toMatchObject({ ok: false, error: { code: "IPC_FORBIDDEN" } });

    const event = { type: "status", status: { ...status, tray: "contributing", decision: { ...status.decision, contribute: true, reasonCode: "contributing", reason: "Contributing" } } };
    core.emit("message", { type: "event", event });
    expect(list("sent").at(-1)).toEqual([IPC_EVENT_CHANNEL, event]);
    await until(() => tray.tooltips.at(-1) === "InferSwarm: Contributing — Contributing");
  });
});
