import { EventEmitter } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { CORE_PORT_PROTOCOL, coreToMainMessageSchema, type CoreToMainMessage, type MainToCoreMessage } from "../../src-contract/core-port.js";
import type { DashboardEvent, DashboardHandlers, NodeStatusView } from "../../src-contract/index.js";
import { createFakeTime, createSilentLogger, settle } from "../common/index.js";
import type { DashboardService } from "./dashboard-service.js";
import type { NodeConfig } from "./node-config.js";
import type { RunningNode, StartNodeDeps } from "./start-node.js";
import { runCoreProcess, type CoreProcessDeps } from "./utility-process-entry.js";

class FakeParentPort extends EventEmitter {
  sent: CoreToMainMessage[] = [];
  postMessage(message: unknown) {
    // Everything the core sends must pass the shell's schema.
    this.sent.push(coreToMainMessageSchema.parse(message));
  }
  deliver(message: MainToCoreMessage | Record<string, unknown>) {
    this.emit("message", { data: message });
  }
  responses() {
    return this.sent.filter((m) => m.type === "response");
  }
}

const status = { peerId: "12D3KooWtest" } as NodeStatusView;

function setup(overrides: Partial<CoreProcessDeps> = {}) {
  const port = new FakeParentPort();
  const time = createFakeTime();
  const eventListeners = new Set<(event: DashboardEvent) => void>();
  const handlers = { getStatus: vi.fn(async () => status) } as unknown as DashboardHandlers;
  const service: DashboardService = {
    handlers,
    subscribe: (listener) => {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    close: vi.fn(),
  };
  const node = { peerId: "12D3KooWtest", stop: vi.fn(async () => {}) } as unknown as RunningNode;
  const startNode = vi.fn(async (_config: NodeConfig, _deps: StartNodeDeps) => node);
  const exit = vi.fn();
  const deps: CoreProcessDeps = {
    port,
    paths: { configDir: "/cfg", dataDir: "/data" },
    loadConfig: async () => ({ api: { enabled: false } }) as NodeConfig,
    startNode,
    createDashboardService: vi.fn(async () => service),
    generateIdentityBytes: async () => new Uint8Array(68).fill(7),
    identityFromBytes: vi.fn((bytes: Uint8Array) => ({ bytes }) as never),
    readIdentityFileBytes: vi.fn(async () => undefined),
    removeFile: vi.fn(async () => {}),
    clock: time.clock,
    timers: time.timers,
    logger: createSilentLogger(),
    exit,
    ...overrides,
  };
  const core = runCoreProcess(deps);
  const emitEvent = (event: DashboardEvent) => eventListeners.forEach((l) => l(event));
  return { port, time, core, deps, startNode, node, service, handlers, exit, emitEvent };
}

const identityStorage = { kind: "os-keyring" as const, note: "kept by the keyring" };

describe("the core in Electron's utilityProcess", () => {
  it("says it is ready with the protocol it speaks", () => {
    const { port } = setup();
    expect(port.sent[0]).toEqual({ type: "ready", protocol: CORE_PORT_PROTOCOL });
  });

  it("generates an identity for the shell to encrypt, as base64", async () => {
    const { port } = setup();
    port.deliver({ type: "request", id: 1, method: "generateIdentity" });
    await settle();
    expect(port.responses()).toEqual([{ type: "response", id: 1, outcome: { ok: true, value: { privateKey: Buffer.alloc(68, 7).toString("base64") } } }]);
  });

  it("starts the node with the shell's key and idle source, then serves dashboard calls", async () => {
    const { port, startNode, deps, handlers } = setup();
    const key = Buffer.alloc(68, 3).toString("base64");
    port.deliver({ type: "request", id: 1, method: "start", params: { privateKey: key, identityStorage } });
    await settle();
    expect(port.responses()[0]).toEqual({ type: "response", id: 1, outcome: { ok: true, value: { peerId: "12D3KooWtest" } } });
    expect(deps.identityFromBytes).toHaveBeenCalledWith(Buffer.alloc(68, 3), expect.any(String));
    const startDeps = startNode.mock.calls[0]![1];
    expect(startDeps.privateKey).toBeDefined();
    expect(startDeps.idleSource).toBeDefined();
    expect(deps.createDashboardService).toHaveBeenCalledWith(expect.objectContaining({ identityStorage, ownerSettingsFile: "/data/owner-settings.json" }));

    port.deliver({ type: "request", id: 2, method: "call", name: "getStatus", args: {} });
    await settle();
    expect(port.responses()[1]).toEqual({ type: "response", id: 2, outcome: { ok: true, value: status } });
    expect(handlers.getStatus).toHaveBeenCalled();
  });

  it("moves a key made before the keyring existed into it: the same key is handed over, then its plaintext file removed", async () => {
    const plaintext = new Uint8Array(68).fill(9);
    const { port, deps } = setup({ readIdentityFileBytes: vi.fn(async (file: string) => (file === "/data/identity.key" ? plaintext : undefined)) });
    port.deliver({ type: "request", id: 1, method: "generateIdentity" });
    await settle();
    const handed = Buffer.from(plaintext).toString("base64");
    expect(port.responses()[0]).toEqual({ type: "response", id: 1, outcome: { ok: true, value: { privateKey: handed } } });
    expect(deps.removeFile).not.toHaveBeenCalled();

    port.deliver({ type: "request", id: 2, method: "start", params: { privateKey: handed, identityStorage } });
    await settle();
    expect(port.responses()[1]!.outcome).toMatchObject({ ok: true });
    expect(deps.removeFile).toHaveBeenCalledWith("/data/identity.key");
  });

  it("keeps a plaintext key file that differs from the keyring's key", async () => {
    const { port, deps } = setup({ readIdentityFileBytes: vi.fn(async () => new Uint8Array(68).fill(9)) });
    port.deliver({ type: "request", id: 1, method: "start", params: { privateKey: Buffer.alloc(68, 3).toString("base64"), identityStorage } });
    await settle();
    expect(port.responses()[0]!.outcome).toMatchObject({ ok: true });
    expect(deps.removeFile).not.toHaveBeenCalled();
  });

  it("serves the OpenAI-compatible API when the config enables it, and shows its address and key in Settings", async () => {
    const close = vi.fn(async () => {});
    const startNodeApi = vi.fn(async () => ({ gateway: { baseUrl: "http://127.0.0.1:7481/v1" }, key: "sk-swarm-test", keyFile: "/data/api.key", close }) as never);
    const { port, deps } = setup({ loadConfig: async () => ({ api: { enabled: true } }) as NodeConfig, startNodeApi });
    port.deliver({ type: "request", id: 1, method: "start", params: { privateKey: null, identityStorage } });
    await settle();
    expect(port.responses()[0]!.outcome).toMatchObject({ ok: true });
    expect(deps.createDashboardService).toHaveBeenCalledWith(expect.objectContaining({ api: { url: "http://127.0.0.1:7481/v1", key: "sk-swarm-test" } }));
    port.deliver({ type: "request", id: 2, method: "stop" });
    await settle();
    expect(close).toHaveBeenCalled();
  });

  it("lets the node keep its own 0600 file when the shell has no keyring", async () => {
    const { port, startNode } = setup();
    port.deliver({ type: "request", id: 1, method: "start", params: { privateKey: null, identityStorage: { kind: "plaintext-file", note: "file" } } });
    await settle();
    expect(startNode.mock.calls[0]![1].privateKey).toBeUndefined();
  });

  it("refuses bad calls with the contract's codes, and calls before the node started", async () => {
    const { port } = setup();
    port.deliver({ type: "request", id: 1, method: "call", name: "getStatus", args: {} });
    await settle();
    expect(port.responses()[0]?.outcome).toMatchObject({ ok: false, error: { code: "CORE_STARTING" } });
    port.deliver({ type: "request", id: 2, method: "start", params: { privateKey: null, identityStorage } });
    await settle();
    port.deliver({ type: "request", id: 3, method: "call", name: "getStatus", args: { extra: 1 } });
    port.deliver({ type: "request", id: 4, method: "call", name: "rmRf", args: {} });
    await settle();
    expect(port.responses()[2]?.outcome).toMatchObject({ ok: false, error: { code: "BAD_ARGUMENT" } });
    expect(port.responses()[3]?.outcome).toMatchObject({ ok: false, error: { code: "UNKNOWN_CALL" } });
  });

  it("reports a failed start with its code and can be started again", async () => {
    const failing = vi.fn().mockRejectedValueOnce(Object.assign(new Error("node.json is invalid"), { code: "NODE_CONFIG_INVALID" }));
    const { port } = setup({ startNode: async (...args) => (await failing(...args)) as RunningNode });
    port.deliver({ type: "request", id: 1, method: "start", params: { privateKey: null, identityStorage } });
    await settle();
    expect(port.responses()[0]?.outcome).toEqual({ ok: false, error: { code: "NODE_CONFIG_INVALID", message: "node.json is invalid" } });
    port.deliver({ type: "request", id: 2, method: "start", params: { privateKey: null, identityStorage } });
    await settle();
    expect(failing).toHaveBeenCalledTimes(2);
  });

  it("forwards the dashboard service's events to the shell", async () => {
    const { port, emitEvent } = setup();
    port.deliver({ type: "request", id: 1, method: "start", params: { privateKey: null, identityStorage } });
    await settle();
    const job = { type: "job" as const, job: { jobId: "j1", model: "tiny", requester: "abcdefgh", state: "running" as const, generatedTokens: 0, startedAt: 1, endedAt: null, detail: null } };
    emitEvent(job);
    expect(port.sent.at(-1)).toEqual({ type: "event", event: job });
  });

  it("feeds the shell's idle readings to the policy's idle source", async () => {
    const { port, core } = setup();
    port.deliver({ type: "idle", reading: { idleSeconds: 120, locked: false, suspended: false } });
    expect(await core.idleSource.read()).toEqual({ idleSeconds: 120, locked: false, suspended: false });
  });

  it("ignores malformed messages without answering", async () => {
    const { port } = setup();
    port.deliver({ type: "request", id: 1, method: "format-disk" });
    port.deliver({ type: "idle", reading: { idleSeconds: -1, locked: false, suspended: false } });
    await settle();
    expect(port.responses()).toEqual([]);
  });

  it("stops the node on request, answers, then exits", async () => {
    const { port, node, service, exit, time } = setup();
    port.deliver({ type: "request", id: 1, method: "start", params: { privateKey: null, identityStorage } });
    await settle();
    port.deliver({ type: "request", id: 2, method: "stop" });
    await settle();
    expect(service.close).toHaveBeenCalled();
    expect(node.stop).toHaveBeenCalled();
    expect(port.responses()[1]).toEqual({ type: "response", id: 2, outcome: { ok: true, value: {} } });
    expect(exit).not.toHaveBeenCalled();
    await time.advance(200);
    expect(exit).toHaveBeenCalledWith(0);
  });
});
