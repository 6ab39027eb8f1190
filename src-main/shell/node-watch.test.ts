import { describe, expect, it, vi } from "vitest";
import type { DashboardCallName, DashboardCallOutcome, EarningsSummary, NodeStatusView } from "../../src-contract/index.js";
import { createFakeTime, settle } from "../common/index.js";
import { createNodeWatch } from "./node-watch.js";
import type { OwnerNotifier } from "./owner-notifications.js";
import { waitingNodeStatus } from "./shell.test-support.js";

const status = waitingNodeStatus;
const zero = { pending: 0, held: 0, payable: 0, forfeited: 0 };
const earnings: EarningsSummary = { available: false, unit: "credits", totals: { today: zero, last7Days: zero, last30Days: zero }, perDay: [], perModel: [] };
const answeredJob = { type: "job" as const, job: { jobId: "j", model: "m", requester: "r", state: "answered" as const, generatedTokens: 3, startedAt: 1, endedAt: 2, detail: "stop" } };

function setup() {
  const time = createFakeTime();
  const call = vi.fn(async (name: DashboardCallName): Promise<DashboardCallOutcome<unknown>> => ({ ok: true, value: name === "getStatus" ? status : earnings }));
  const notifier: OwnerNotifier = { status: vi.fn(), earnings: vi.fn(), reset: vi.fn() };
  const seen: (NodeStatusView | null)[] = [];
  const watch = createNodeWatch({ call, notifier, onStatus: (s) => seen.push(s), timers: time.timers, clock: time.clock, earningsEveryMs: 60_000 });
  return { time, call, notifier, seen, watch };
}

describe("the shell's watch on the node", () => {
  it("asks for the status and a first earnings reading when a core starts running", async () => {
    const { watch, time, call, seen, notifier } = setup();
    watch.coreState({ kind: "running", peerId: "p" });
    await time.advance(0);
    expect(call.mock.calls.map(([name]) => name).sort()).toEqual(["getEarnings", "getStatus"]);
    expect(seen).toEqual([status]);
    expect(notifier.earnings).toHaveBeenCalledWith(earnings);
  });

  it("follows status events and clears the status when the core goes down", async () => {
    const { watch, seen, notifier } = setup();
    watch.coreState({ kind: "running", peerId: "p" });
    await settle();
    watch.event({ type: "status", status: { ...status, tray: "contributing" } });
    expect(seen.at(-1)?.tray).toBe("contributing");
    expect(notifier.status).toHaveBeenLastCalledWith(expect.objectContaining({ tray: "contributing" }));
    watch.coreState({ kind: "restarting", reason: "crash", restartInMs: 1000, attempt: 1 });
    expect(seen.at(-1)).toBeNull();
    expect(notifier.reset).toHaveBeenCalled();
    expect(watch.status()).toBeNull();
  });

  it("checks earnings after answered jobs at most once a minute", async () => {
    const { watch, time, call } = setup();
    watch.coreState({ kind: "running", peerId: "p" });
    await time.advance(0);
    for (let i = 0; i < 10; i++) watch.event(answeredJob);
    await time.advance(59_000);
    expect(call.mock.calls.filter(([name]) => name === "getEarnings")).toHaveLength(1);
    await time.advance(1_000);
    expect(call.mock.calls.filter(([name]) => name === "getEarnings")).toHaveLength(2);
  });

  it("ignores a malformed status answer", async () => {
    const { watch, seen } = setup();
    watch.coreState({ kind: "running", peerId: "p" });
    await settle();
    watch.statusOutcome({ ok: true, value: { tray: "on-fire" } });
    expect(seen).toEqual([status]);
  });
});
