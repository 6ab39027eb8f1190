import { describe, expect, it } from "vitest";
import { dashboardCalls, dashboardEventSchema, dispatchDashboardCall, type DashboardEvent } from "../../src-contract/index.js";
import type { ContributionDecision } from "../policy/index.js";
import { createDashboardService, trayStateOf } from "./dashboard-service.js";
import type { ModelDownloadView } from "./model-downloads.js";
import { parseNodeConfig } from "./node-config.js";
import type { FetchModelOptions } from "./node-models.js";
import type { NodeEvent, RunningNode } from "./start-node.js";

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

describe("the dashboard's models over the swarm", () => {
  const ROOT = "e".repeat(64);
  const HELD_ROOT = "f".repeat(64);

  /** A node with no served model: only what getModels, fetchModel and the download events touch. */
  function fakeNode() {
    const listeners = new Set<(event: NodeEvent) => void>();
    const starts: { root: string; options: FetchModelOptions | undefined }[] = [];
    const running: ModelDownloadView = { root: ROOT, name: ROOT.slice(0, 12), state: "fetching", receivedBytes: 0, totalBytes: 0, peers: 0, bytesPerSecond: 0, etaSeconds: null, error: null, startedAt: 1 };
    const node = {
      peerId: "self",
      served: [],
      policy: undefined,
      hardware: undefined,
      // worker-1 twice (two adverts), a requester that serves nothing, and this node itself.
      adverts: { freshAdverts: () => [served("worker-1"), served("worker-2"), served("worker-1"), { peerId: "requester", models: [] }, served("self")] },
      models: { held: () => [{ manifest: { root: HELD_ROOT, parts: [{ fileName: "tiny.gguf" }], metadata: { name: "Tiny" } }, paths: [] }] },
      downloads: {
        start: (root: string, options?: FetchModelOptions) => (starts.push({ root, options }), { ...running, root }),
        list: () => [running],
      },
      onEvent: (listener: (event: NodeEvent) => void) => (listeners.add(listener), () => listeners.delete(listener)),
    } as unknown as RunningNode;
    const emitNode = (event: NodeEvent) => listeners.forEach((listener) => listener(event));
    return { node, starts, running, emitNode };
  }

  const identityStorage = { kind: "plaintext-file", note: "test" } as const;
  const served = (peerId: string) => ({ peerId, models: [{ sha256: "1".repeat(64), name: "tiny" }] });

  it("lists the node's downloads and starts a fetch with the workers that advertise a model as peers", async () => {
    const { node, starts, running } = fakeNode();
    const service = await createDashboardService({ node, config: parseNodeConfig({}), identityStorage });
    const models = await dispatchDashboardCall(service.handlers, "getModels", {});
    expect(models).toEqual({ ok: true, value: { installed: [], downloads: [running] } });
    const started = await dispatchDashboardCall(service.handlers, "fetchModel", { root: ROOT });
    expect(started).toMatchObject({ ok: true, value: { root: ROOT, state: "fetching" } });
    expect(starts).toEqual([{ root: ROOT, options: { peers: ["worker-1", "worker-2"] } }]);
    expect(dashboardCalls.fetchModel.result.safeParse((started as { value: unknown }).value).success).toBe(true);
    service.close();
  });

  it("refuses a model the node already holds, and a root that is not 64 lowercase hex characters", async () => {
    const { node, starts } = fakeNode();
    const service = await createDashboardService({ node, config: parseNodeConfig({}), identityStorage });
    const held = await dispatchDashboardCall(service.handlers, "fetchModel", { root: HELD_ROOT });
    expect(held).toMatchObject({ ok: false, error: { code: "ALREADY_HELD" } });
    expect((held as { error: { message: string } }).error.message).toContain("Tiny");
    for (const root of ["abc", "E".repeat(64), `${"e".repeat(63)}g`]) {
      expect(await dispatchDashboardCall(service.handlers, "fetchModel", { root })).toMatchObject({ ok: false, error: { code: "BAD_ARGUMENT" } });
    }
    expect(starts).toEqual([]);
    service.close();
  });

  it("pushes the node's download progress as a download event", async () => {
    const { node, running, emitNode } = fakeNode();
    const service = await createDashboardService({ node, config: parseNodeConfig({}), identityStorage, statusThrottleMs: 0 });
    const events: DashboardEvent[] = [];
    service.subscribe((event) => events.push(event));
    const progressed = { ...running, receivedBytes: 5, totalBytes: 10, bytesPerSecond: 5, etaSeconds: 1 };
    emitNode({ type: "model-download", download: progressed });
    expect(events).toEqual([{ type: "download", download: progressed }]);
    expect(dashboardEventSchema.safeParse(events[0]).success).toBe(true);
    service.close();
  });
});
