import type { ContributionMode, SettingsUpdate, SettingsView } from "../../../src-contract/index.js";

type Policy = SettingsView["policy"];
export type ScheduleWindow = Policy["schedule"][number];
type LimitKey = keyof Policy["limits"];

/** The number fields as the owner types them; fractions are edited as percentages. */
export interface SettingsDraft {
  mode: ContributionMode;
  pauseKind: Policy["pauseKind"];
  idleAfterSeconds: string;
  pauseWhenGameRunning: boolean;
  schedule: ScheduleWindow[];
  limits: Record<LimitKey, string>;
  startAtLogin: boolean | null;
}

/** Limits edited as a percentage of a 0–1 fraction. */
const PERCENT_LIMITS = new Set<LimitKey>(["maxPowerFractionOfLimit", "vramShare"]);
const INTEGER_FIELDS = new Set<string>(["idleAfterSeconds", "limits.maxConcurrentJobs"]);

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const limitToText = (key: LimitKey, value: number | null) => (value === null ? "" : String(PERCENT_LIMITS.has(key) ? round(value * 100, 2) : value));

export function toDraft(settings: SettingsView): SettingsDraft {
  const { policy } = settings;
  const limits = Object.fromEntries(Object.entries(policy.limits).map(([key, value]) => [key, limitToText(key as LimitKey, value)])) as Record<LimitKey, string>;
  return {
    mode: policy.mode,
    pauseKind: policy.pauseKind,
    idleAfterSeconds: String(policy.idleAfterSeconds),
    pauseWhenGameRunning: policy.pauseWhenGameRunning,
    schedule: policy.schedule.map((w) => ({ ...w, days: [...w.days] })),
    limits,
    startAtLogin: settings.startAtLogin,
  };
}

const sameSchedule = (a: readonly ScheduleWindow[], b: readonly ScheduleWindow[]) =>
  a.length === b.length && a.every((w, i) => w.start === b[i]!.start && w.end === b[i]!.end && w.days.join() === b[i]!.days.join());

/**
 * The update to send: only the fields the owner changed (the node merges limits into its current ones), so
 * a save never overwrites a change made elsewhere meanwhile. Fields that are not numbers come back in
 * `errors`, keyed like the node's field errors ("limits.maxTemperatureC").
 */
export function buildSettingsUpdate(current: SettingsView, draft: SettingsDraft): { update: SettingsUpdate; errors: Record<string, string>; changed: boolean } {
  const errors: Record<string, string> = {};
  const parse = (path: string, text: string, nullable: boolean): number | null | undefined => {
    const trimmed = text.trim();
    if (trimmed === "") {
      if (nullable) return null;
      errors[path] = "Enter a number.";
      return undefined;
    }
    const value = Number(trimmed);
    if (!Number.isFinite(value)) errors[path] = "Enter a number.";
    else if (INTEGER_FIELDS.has(path) && !Number.isInteger(value)) errors[path] = "Enter a whole number.";
    else return value;
    return undefined;
  };

  const policy: NonNullable<SettingsUpdate["policy"]> = {};
  const limits: Partial<Policy["limits"]> = {};
  if (draft.mode !== current.policy.mode) policy.mode = draft.mode;
  if (draft.pauseKind !== current.policy.pauseKind) policy.pauseKind = draft.pauseKind;
  if (draft.pauseWhenGameRunning !== current.policy.pauseWhenGameRunning) policy.pauseWhenGameRunning = draft.pauseWhenGameRunning;
  const idle = parse("idleAfterSeconds", draft.idleAfterSeconds, false);
  if (typeof idle === "number" && idle !== current.policy.idleAfterSeconds) policy.idleAfterSeconds = idle;
  if (!sameSchedule(draft.schedule, current.policy.schedule)) policy.schedule = draft.schedule;

  for (const key of Object.keys(draft.limits) as LimitKey[]) {
    const parsed = parse(`limits.${key}`, draft.limits[key], key === "maxPowerW");
    if (parsed === undefined) continue;
    const value = parsed === null ? null : PERCENT_LIMITS.has(key) ? round(parsed / 100, 4) : parsed;
    const was = current.policy.limits[key];
    const unchanged = value === null || was === null ? value === was : PERCENT_LIMITS.has(key) ? round(was, 4) === value : was === value;
    if (!unchanged) (limits as Record<string, number | null>)[key] = value;
  }
  if (Object.keys(limits).length > 0) policy.limits = limits;

  const update: SettingsUpdate = {};
  if (Object.keys(policy).length > 0) update.policy = policy;
  if (draft.startAtLogin !== null && draft.startAtLogin !== current.startAtLogin) update.startAtLogin = draft.startAtLogin;
  return { update, errors, changed: Object.keys(update).length > 0 };
}

export const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

export function describeWindow(window: ScheduleWindow): string {
  return `${window.days.map((d) => DAY_NAMES[d]).join(", ")} ${window.start}–${window.end}`;
}
