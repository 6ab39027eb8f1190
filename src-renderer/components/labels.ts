import type { ContributionMode, EarningState, TrayState } from "../../src-contract/index.js";

export const TRAY_LABELS: Record<TrayState, string> = {
  contributing: "Contributing",
  "waiting-for-idle": "Waiting for idle",
  paused: "Paused",
  "too-hot": "Too hot",
};

export const MODE_LABELS: Record<ContributionMode, string> = {
  always: "Always",
  "when-idle": "When I'm away",
  schedule: "On a schedule",
  paused: "Paused",
};

export const MODES: ContributionMode[] = ["always", "when-idle", "schedule", "paused"];

export const EARNING_STATES: EarningState[] = ["pending", "held", "payable", "forfeited"];
export const EARNING_STATE_LABELS: Record<EarningState, string> = { pending: "Pending", held: "Held", payable: "Payable", forfeited: "Forfeited" };
/** Chart colours per state, readable on the dark theme. */
export const EARNING_STATE_COLORS: Record<EarningState, string> = { pending: "#7aa2f7", held: "#e0af68", payable: "#9ece6a", forfeited: "#f7768e" };
