/**
 * Local calendar days in an IANA time zone, from Intl alone: the dashboard counts "today" and per-day
 * earnings by the owner's days, not UTC's.
 */
export interface LocalDay {
  /** YYYY-MM-DD in the zone. */
  day: string;
  /** Epoch ms of the day's first instant, and of the next day's. */
  startMs: number;
  endMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    formatters.set(timeZone, format);
  }
  return format;
}

function wallClock(ms: number, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) if (part.type !== "literal") parts[part.type] = Number(part.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** The zone's offset from UTC at `ms`, in ms (positive east of Greenwich). */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const seconds = Math.floor(ms / 1000) * 1000;
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - seconds;
}

/** First instant of a calendar date in the zone (two passes settle offsets that change near midnight). */
function startOfDate(year: number, month: number, day: number, timeZone: string): number {
  const utcMidnight = Date.UTC(year, month - 1, day);
  const first = utcMidnight - offsetAt(utcMidnight, timeZone);
  return utcMidnight - offsetAt(first, timeZone);
}

const key = (year: number, month: number, day: number) => `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;

export function localDayKey(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  return key(w.year, w.month, w.day);
}

/** The `count` local days ending with the one holding `nowMs`, oldest first. */
export function lastLocalDays(nowMs: number, count: number, timeZone: string): LocalDay[] {
  const today = wallClock(nowMs, timeZone);
  const days: LocalDay[] = [];
  for (let back = count - 1; back >= 0; back--) {
    // Calendar arithmetic in UTC, where every day has 24 hours.
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day - back));
    const next = new Date(Date.UTC(today.year, today.month - 1, today.day - back + 1));
    days.push({
      day: key(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()),
      startMs: startOfDate(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), timeZone),
      endMs: startOfDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone),
    });
  }
  return days;
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
