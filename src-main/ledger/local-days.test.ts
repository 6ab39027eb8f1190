import { describe, expect, it } from "vitest";
import { lastLocalDays, localDayKey } from "./local-days.js";

describe("local days", () => {
  it("are UTC days in UTC", () => {
    const days = lastLocalDays(Date.UTC(2025, 0, 2, 5), 3, "UTC");
    expect(days).toEqual([
      { day: "2024-12-31", startMs: Date.UTC(2024, 11, 31), endMs: Date.UTC(2025, 0, 1) },
      { day: "2025-01-01", startMs: Date.UTC(2025, 0, 1), endMs: Date.UTC(2025, 0, 2) },
      { day: "2025-01-02", startMs: Date.UTC(2025, 0, 2), endMs: Date.UTC(2025, 0, 3) },
    ]);
  });

  it("follow the zone's offset, and have 23 or 25 hours across DST changes", () => {
    // New York: EST (UTC-5) until 9 March 2025 02:00, EDT (UTC-4) after; back on 2 November.
    const spring = lastLocalDays(Date.UTC(2025, 2, 10, 12), 2, "America/New_York");
    expect(spring[0]).toEqual({ day: "2025-03-09", startMs: Date.UTC(2025, 2, 9, 5), endMs: Date.UTC(2025, 2, 10, 4) });
    expect((spring[0]!.endMs - spring[0]!.startMs) / 3_600_000).toBe(23);
    const autumn = lastLocalDays(Date.UTC(2025, 10, 2, 12), 1, "America/New_York");
    expect((autumn[0]!.endMs - autumn[0]!.startMs) / 3_600_000).toBe(25);
    // East of Greenwich: Tokyo's day starts at 15:00 UTC the day before.
    expect(lastLocalDays(Date.UTC(2025, 5, 1, 16), 1, "Asia/Tokyo")[0]).toMatchObject({ day: "2025-06-02", startMs: Date.UTC(2025, 5, 1, 15) });
    expect(localDayKey(Date.UTC(2025, 5, 1, 14, 59), "Asia/Tokyo")).toBe("2025-06-01");
  });

  it("tile time without gaps or overlaps", () => {
    const days = lastLocalDays(Date.UTC(2025, 11, 31), 400, "Europe/Berlin");
    for (let i = 1; i < days.length; i++) expect(days[i]!.startMs).toBe(days[i - 1]!.endMs);
    for (const d of days) expect(localDayKey(d.startMs, "Europe/Berlin")).toBe(d.day);
  });
});
