import type { EarningsSummary, NodeStatusView } from "../../src-contract/index.js";
import type { Clock } from "../common/index.js";

export type OwnerNotificationKind = "too-hot" | "game" | "first-earnings";
export interface OwnerNotification {
  kind: OwnerNotificationKind;
  title: string;
  body: string;
}

/**
 * What a status change is worth telling the owner, as a pure function of the previous and the new status:
 * - heat: the tray enters "too-hot" (the GPU passed the owner's limit; work stopped to protect it);
 * - a game: the policy stepped aside for a game while it was contributing (jobs were stopped). A game
 *   starting while the node waited anyway changes nothing for the owner, so it stays quiet then.
 * The first status after a start is a baseline: nothing is a transition yet.
 */
export function notificationsForStatus(previous: NodeStatusView | null, next: NodeStatusView): OwnerNotification[] {
  if (!previous) return [];
  const out: OwnerNotification[] = [];
  if (next.tray === "too-hot" && previous.tray !== "too-hot") {
    out.push({ kind: "too-hot", title: "InferSwarm paused: GPU too hot", body: next.decision?.reason ?? "Your GPU passed the temperature limit you set; work resumes once it cools down." });
  }
  if (next.decision?.reasonCode === "game-running" && previous.decision?.reasonCode !== "game-running" && previous.tray === "contributing") {
    out.push({ kind: "game", title: "InferSwarm stepped aside for your game", body: next.decision.reason });
  }
  return out;
}

/** Credits earned and not forfeited over the last 30 days; 0 while the node has no ledger. */
export function earnedTotal(summary: EarningsSummary): number {
  if (!summary.available) return 0;
  const t = summary.totals.last30Days;
  return t.pending + t.held + t.payable;
}

/** The first earnings: the total goes from a known 0 to more than 0 (a first reading is a baseline). */
export function notificationsForEarnings(previousTotal: number | null, next: EarningsSummary): OwnerNotification[] {
  const total = earnedTotal(next);
  if (previousTotal !== 0 || total <= 0) return [];
  return [{ kind: "first-earnings", title: "InferSwarm: your first earnings", body: `Your GPU earned ${formatAmount(total)} ${next.unit} for answering the swarm's requests.` }];
}

function formatAmount(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3).replace(/\.?0+$/, "");
}

export interface OwnerNotifier {
  status(next: NodeStatusView): void;
  earnings(next: EarningsSummary): void;
  /** A restarted node starts a new baseline. */
  reset(): void;
}

/**
 * Remembers the last status and earnings so each transition notifies once however often the node
 * reports, and holds back a kind shown within `cooldownMs` (a GPU hovering at its limit would flap).
 */
export function createOwnerNotifier(options: { show(notification: OwnerNotification): void; clock: Clock; cooldownMs?: number }): OwnerNotifier {
  const cooldownMs = options.cooldownMs ?? 15 * 60_000;
  const lastShown = new Map<OwnerNotificationKind, number>();
  let previousStatus: NodeStatusView | null = null;
  let previousTotal: number | null = null;

  const show = (notifications: OwnerNotification[]) => {
    const now = options.clock.now();
    for (const notification of notifications) {
      const last = lastShown.get(notification.kind);
      if (last !== undefined && now - last < cooldownMs) continue;
      lastShown.set(notification.kind, now);
      options.show(notification);
    }
  };

  return {
    status(next) {
      show(notificationsForStatus(previousStatus, next));
      previousStatus = next;
    },
    earnings(next) {
      show(notificationsForEarnings(previousTotal, next));
      previousTotal = earnedTotal(next);
    },
    reset() {
      previousStatus = null;
    },
  };
}
