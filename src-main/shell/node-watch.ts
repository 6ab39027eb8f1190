import { dashboardCalls, type DashboardCallName, type DashboardCallOutcome, type DashboardEvent, type NodeStatusView } from "../../src-contract/index.js";
import type { Clock, TimerHandle, Timers } from "../common/index.js";
import type { CoreState } from "./core-supervisor.js";
import type { OwnerNotifier } from "./owner-notifications.js";

export interface NodeWatch {
  coreState(state: CoreState): void;
  event(event: DashboardEvent): void;
  /** A status the shell got by calling (the tray's pause and mode), applied at once. */
  statusOutcome(outcome: DashboardCallOutcome<unknown>): void;
  status(): NodeStatusView | null;
  close(): void;
}

/**
 * What the shell itself knows of the node, for the tray and the notifications: the last status (asked for
 * when a core starts, then from its status events) and the earnings total, checked when a job is answered
 * at most once per `earningsEveryMs`.
 */
export function createNodeWatch(options: {
  call(name: DashboardCallName, args: unknown): Promise<DashboardCallOutcome<unknown>>;
  notifier: OwnerNotifier;
  onStatus(status: NodeStatusView | null): void;
  timers: Timers;
  clock: Clock;
  earningsEveryMs?: number;
}): NodeWatch {
  const { timers, clock, notifier } = options;
  const earningsEveryMs = options.earningsEveryMs ?? 60_000;
  let status: NodeStatusView | null = null;
  let earningsTimer: TimerHandle | undefined;
  let lastEarningsAt = Number.NEGATIVE_INFINITY;
  let running = false;

  const setStatus = (next: NodeStatusView | null) => {
    status = next;
    if (next) notifier.status(next);
    options.onStatus(next);
  };

  const applyStatus = (outcome: DashboardCallOutcome<unknown>) => {
    if (!outcome.ok || !running) return;
    const parsed = dashboardCalls.getStatus.result.safeParse(outcome.value);
    if (parsed.success) setStatus(parsed.data);
  };

  async function checkEarnings() {
    earningsTimer = undefined;
    lastEarningsAt = clock.now();
    const outcome = await options.call("getEarnings", {});
    if (!outcome.ok || !running) return;
    const parsed = dashboardCalls.getEarnings.result.safeParse(outcome.value);
    if (parsed.success) notifier.earnings(parsed.data);
  }

  const scheduleEarnings = () => {
    if (earningsTimer !== undefined) return;
    const wait = Math.max(0, lastEarningsAt + earningsEveryMs - clock.now());
    earningsTimer = timers.setTimeout(() => void checkEarnings(), wait);
  };

  return {
    coreState(state) {
      const nowRunning = state.kind === "running";
      if (nowRunning && !running) {
        running = true;
        void options.call("getStatus", {}).then(applyStatus);
        scheduleEarnings();
      } else if (!nowRunning && running) {
        running = false;
        notifier.reset();
        if (earningsTimer !== undefined) timers.clearTimeout(earningsTimer);
        earningsTimer = undefined;
        setStatus(null);
      }
    },
    event(event) {
      if (!running) return;
      if (event.type === "status") setStatus(event.status);
      if (event.type === "job" && event.job.state === "answered") scheduleEarnings();
    },
    statusOutcome: applyStatus,
    status: () => status,
    close() {
      running = false;
      if (earningsTimer !== undefined) timers.clearTimeout(earningsTimer);
    },
  };
}
