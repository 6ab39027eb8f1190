/** Display formats shared by the panels; the owner's locale decides separators. */

const units = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toLocaleString(undefined, { maximumFractionDigits: unit === 0 ? 0 : 1 })} ${units[unit]}`;
}

export function formatNumber(value: number, maximumFractionDigits = 0): string {
  return value.toLocaleString(undefined, { maximumFractionDigits });
}

/** Earnings amounts: two decimals at most. */
/** Credits: two decimals, but a small non-zero amount (one job earns thousandths) keeps three significant digits instead of showing 0. */
export function formatAmount(value: number): string {
  if (value !== 0 && Math.abs(value) < 1) return value.toLocaleString(undefined, { maximumSignificantDigits: 3 });
  return value.toLocaleString(undefined, { minimumFractionDigits: 0, maximumFractionDigits: 2 });
}

export function formatClock(at: number): string {
  return new Date(at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatDateTime(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** "3 h 25 min", "42 s": for uptime and job durations. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function shortHash(sha256: string): string {
  return `${sha256.slice(0, 12)}…`;
}

/** A reading the source could not tell is shown as "—", never as 0. */
export function formatReading(value: number | null, unit: string, digits = 0): string {
  return value === null ? "—" : `${formatNumber(value, digits)} ${unit}`;
}
