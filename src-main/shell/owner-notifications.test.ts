import { describe, expect, it } from "vitest";
import type { EarningsSummary, NodeStatusView, TrayState } from "../../src-contract/index.js";
import { createFakeTime } from "../common/index.js";
import { createOwnerNotifier, notificationsForEarnings, notificationsForStatus, type OwnerNotification } from "./owner-notifications.js";

function status(tray: TrayState, reasonCode: string, reason = reasonCode): NodeStatusView {
  return {
    tray,
    mode: "when-idle",
    decision: { contribute: tray === "contributing", reasonCode, reason, at: 1 },
  } as NodeStatusView;
}
const contributing = status("contributing", "contributing");
const hot = status("too-hot", "too-hot", "Paused: GPU at 86 °C (limit 83 °C); resumes at 75 °C");
const game = status("waiting-for-idle", "game-running", "Paused: Cyberpunk 2077 is running");
const waiting = status("waiting-for-idle", "owner-active");

function earnings(payable: number, available = true): EarningsSummary {
  const zero = { pending: 0, held: 0, payable: 0, forfeited: 0 };
  return { available, unit: "credits", totals: { today: zero, last7Days: zero, last30Days: { ...zero, payable } }, perDay: [], perModel: [] };
}

describe("which status changes the owner hears about", () => {
  it("tells of a pause for heat, with the policy's reason", () => {
    expect(notificationsForStatus(contributing, hot)).toEqual([{ kind: "too-hot", title: "InferSwarm paused: GPU too hot", body: hot.decision!.reason }]);
    expect(notificationsForStatus(waiting, hot).map((n) => n.kind)).toEqual(["too-hot"]);
  });

  it("tells of a game that stopped the node's work", () => {
    expect(notificationsForStatus(contributing, game)).toEqual([{ kind: "game", title: "InferSwarm stepped aside for your game", body: "Paused: Cyberpunk 2077 is running" }]);
  });

  it("stays quiet about a game that started while the node was waiting anyway", () => {
    expect(notificationsForStatus(waiting, game)).toEqual([]);
  });

  it("notifies once per transition, not on every report of the same state", () => {
    expect(notificationsForStatus(hot, hot)).toEqual([]);
    expect(notificationsForStatus(game, game)).toEqual([]);
    expect(notificationsForStatus(contributing, contributing)).toEqual([]);
  });

  it("treats the first status after a start as a baseline", () => {
    expect(notificationsForStatus(null, hot)).toEqual([]);
  });
});

describe("first earnings", () => {
  it("is told when the total goes from 0 to more than 0", () => {
    expect(notificationsForEarnings(0, earnings(1.25))).toEqual([
      { kind: "first-earnings", title: "InferSwarm: your first earnings", body: "Your GPU earned 1.25 credits for answering the swarm's requests." },
    ]);
  });

  it("is not told for a first reading, more earnings, or a node without a ledger", () => {
    expect(notificationsForEarnings(null, earnings(5))).toEqual([]);
    expect(notificationsForEarnings(5, earnings(6))).toEqual([]);
    expect(notificationsForEarnings(0, earnings(5, false))).toEqual([]);
    expect(notificationsForEarnings(0, earnings(0))).toEqual([]);
  });
});

describe("the owner notifier", () => {
  function setup() {
    const time = createFakeTime();
    const shown: OwnerNotification[] = [];
    const notifier = createOwnerNotifier({ show: (n) => shown.push(n), clock: time.clock, cooldownMs: 60_000 });
    return { time, shown, notifier };
  }

  it("shows one notification per transition however often the node reports", () => {
    const { shown, notifier } = setup();
    for (const next of [contributing, contributing, hot, hot, hot]) notifier.status(next);
    expect(shown.map((n) => n.kind)).toEqual(["too-hot"]);
  });

  it("holds back the same kind within the cooldown (a GPU hovering at its limit)", async () => {
    const { time, shown, notifier } = setup();
    for (const next of [contributing, hot, contributing, hot]) notifier.status(next);
    expect(shown).toHaveLength(1);
    await time.advance(60_000);
    notifier.status(contributing);
    notifier.status(hot);
    expect(shown).toHaveLength(2);
  });

  it("tells of the first earnings once, from a node that had none", () => {
    const { shown, notifier } = setup();
    notifier.earnings(earnings(0, false));
    notifier.earnings(earnings(0));
    notifier.earnings(earnings(2));
    notifier.earnings(earnings(3));
    expect(shown.map((n) => n.kind)).toEqual(["first-earnings"]);
  });

  it("starts a new baseline after a restart", () => {
    const { shown, notifier } = setup();
    notifier.status(contributing);
    notifier.reset();
    notifier.status(hot);
    expect(shown).toEqual([]);
  });
});
