import { minutesOfClockTime, type ScheduleWindow } from "./policy-config.js";

/** A moment as the owner's wall clock shows it: what schedule windows are written in. */
export interface LocalTime {
  /** 0 = Sunday, as `Date.getDay()`. */
  dayOfWeek: number;
  minuteOfDay: number;
}

export type LocalTimeAccessor = (epochMs: number) => LocalTime;

/** The process's own time zone, daylight saving included: what the controller uses by default. */
export const systemLocalTime: LocalTimeAccessor = (epochMs) => {
  const date = new Date(epochMs);
  return { dayOfWeek: date.getDay(), minuteOfDay: date.getHours() * 60 + date.getMinutes() };
};

/** A fixed offset from UTC in minutes (east positive, e.g. +120 for UTC+2): for tests and explicit zones. */
export function localTimeAtOffset(offsetMinutes: number): LocalTimeAccessor {
  return (epochMs) => {
    const date = new Date(epochMs + offsetMinutes * 60_000);
    return { dayOfWeek: date.getUTCDay(), minuteOfDay: date.getUTCHours() * 60 + date.getUTCMinutes() };
  };
}

const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

export type ScheduleStatus =
  | { inWindow: true }
  | { inWindow: false; next: { dayOfWeek: number; start: string } | null };

/**
 * Works on minutes of the week, so windows that cross midnight (or Saturday → Sunday) need no special
 * case: a window is active when the minutes since its start are fewer than its length.
 */
export function scheduleStatus(windows: readonly ScheduleWindow[], now: LocalTime): ScheduleStatus {
  const nowInWeek = now.dayOfWeek * MINUTES_PER_DAY + now.minuteOfDay;
  let next: { dayOfWeek: number; start: string; wait: number } | null = null;
  for (const window of windows) {
    const start = minutesOfClockTime(window.start);
    const end = minutesOfClockTime(window.end);
    const length = end > start ? end - start : end + MINUTES_PER_DAY - start;
    for (const day of window.days) {
      const startInWeek = day * MINUTES_PER_DAY + start;
      const sinceStart = (nowInWeek - startInWeek + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
      if (sinceStart < length) return { inWindow: true };
      const wait = MINUTES_PER_WEEK - sinceStart;
      if (next === null || wait < next.wait) next = { dayOfWeek: day, start: window.start, wait };
    }
  }
  return { inWindow: false, next: next && { dayOfWeek: next.dayOfWeek, start: next.start } };
}
