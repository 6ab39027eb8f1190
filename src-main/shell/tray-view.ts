import type { MenuItemConstructorOptions } from "electron";
import type { ContributionMode, NodeStatusView, TrayState } from "../../src-contract/index.js";
import type { CoreState } from "./core-supervisor.js";

/** One icon per contract tray state, plus one for a node that is down. */
export type TrayIconName = TrayState | "error";
export const TRAY_ICON_NAMES: readonly TrayIconName[] = ["contributing", "waiting-for-idle", "paused", "too-hot", "error"];

export type SelectableMode = Exclude<ContributionMode, "paused">;

export interface TrayView {
  icon: TrayIconName;
  /** The state in two or three words (the menu's first line). */
  headline: string;
  /** Why, in the policy's own sentence, or what went wrong. */
  detail: string | null;
  tooltip: string;
  /** Pause and mode act on a running node only. */
  canControl: boolean;
  paused: boolean;
  /** The mode the radio items show: the current one, or the one Resume returns to. */
  mode: SelectableMode | null;
  canRestart: boolean;
}

export interface TrayActions {
  setPaused(paused: boolean): void;
  setMode(mode: SelectableMode): void;
  openDashboard(): void;
  restartNode(): void;
  quit(): void;
}

const HEADLINES: Record<TrayState, string> = {
  contributing: "Contributing",
  "waiting-for-idle": "Waiting for idle",
  paused: "Paused",
  "too-hot": "Paused: GPU too hot",
};

/** Windows cuts tray tooltips at 127 characters. */
const TOOLTIP_MAX = 127;

export function trayViewFor(core: CoreState, status: NodeStatusView | null): TrayView {
  const view = (icon: TrayIconName, headline: string, detail: string | null, extra: Partial<TrayView> = {}): TrayView => ({
    icon,
    headline,
    detail,
    tooltip: clip(`InferSwarm: ${headline}${detail ? ` — ${detail}` : ""}`, TOOLTIP_MAX),
    canControl: false,
    paused: false,
    mode: null,
    canRestart: false,
    ...extra,
  });
  switch (core.kind) {
    case "starting":
      return view("paused", "Starting the node…", core.attempt > 1 ? `attempt ${core.attempt}` : null);
    case "restarting":
      return view("error", "The node stopped", `${core.reason}; restarting in ${Math.ceil(core.restartInMs / 1000)} s`);
    case "failed":
      return view("error", "The node is not running", core.reason, { canRestart: true });
    case "stopped":
      return view("paused", "Stopped", null);
    case "running": {
      if (!status) return view("paused", "Starting the node…", null);
      const paused = status.mode === "paused";
      return view(status.tray, HEADLINES[status.tray], status.decision?.reason ?? null, {
        canControl: true,
        paused,
        mode: paused ? status.resumeMode : (status.mode as SelectableMode),
      });
    }
  }
}

const MODE_LABELS: Record<SelectableMode, string> = { always: "Always", "when-idle": "When idle", schedule: "On my schedule" };

/** The tray's context menu; rebuilt and set again on every change (Linux shows no edits otherwise). */
export function trayMenuTemplate(view: TrayView, actions: TrayActions): MenuItemConstructorOptions[] {
  const items: MenuItemConstructorOptions[] = [{ label: view.headline, enabled: false }];
  if (view.detail) items.push({ label: clip(view.detail, 90), enabled: false });
  items.push(
    { type: "separator" },
    { label: view.paused ? "Resume contributing" : "Pause contributing", enabled: view.canControl, click: () => actions.setPaused(!view.paused) },
    {
      label: "Mode",
      submenu: (Object.keys(MODE_LABELS) as SelectableMode[]).map((mode) => ({
        label: MODE_LABELS[mode],
        type: "radio" as const,
        checked: view.mode === mode,
        enabled: view.canControl,
        click: () => actions.setMode(mode),
      })),
    },
    { type: "separator" },
    { label: "Open dashboard", click: () => actions.openDashboard() },
  );
  if (view.canRestart) items.push({ label: "Restart the node", click: () => actions.restartNode() });
  items.push({ type: "separator" }, { label: "Quit InferSwarm", click: () => actions.quit() });
  return items;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
