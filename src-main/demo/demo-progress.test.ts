import { describe, expect, it } from "vitest";
import { describeProgress, formatCredits, type WorkerProgress } from "./demo-progress.js";

const worker = (name: string, over: Partial<WorkerProgress> = {}): WorkerProgress => ({
  name,
  reachable: true,
  jobs: 0,
  earnings: { pending: 0, held: 0, payable: 0, forfeited: 0 },
  verifiedPass: 0,
  verifiedFail: 0,
  ...over,
});
const stats = { sent: 12, completed: 10, failed: 1, throttled: 1, completionTokens: 400, firstTokenMs: [], lastError: null };

describe("describeProgress", () => {
  it("sums the workers' receipts, earnings by state and verdicts", () => {
    const line = describeProgress(
      stats,
      [
        worker("worker-1", { jobs: 6, earnings: { pending: 0.05, held: 0.01, payable: 0.2, forfeited: 0.3 }, verifiedPass: 2 }),
        worker("worker-2", { jobs: 4, earnings: { pending: 0.02, held: 0, payable: 0, forfeited: 0 }, verifiedFail: 1 }),
      ],
      20,
    );
    expect(line).toBe(
      "10 answered, 1 failed, 1 throttled · 400 tokens (20.0 tok/s) · receipts 10 (worker-1 6 worker-2 4) · earned 0.280 cr: 0.0700 pending, 0.0100 held, 0.200 payable · verified 2 pass / 1 fail",
    );
  });

  it("marks a worker whose dashboard did not answer instead of counting it as zero", () => {
    const line = describeProgress({ ...stats, throttled: 0 }, [worker("worker-1", { jobs: 3 }), worker("worker-2", { reachable: false })], 0);
    expect(line).toContain("receipts 3 (worker-1 3 worker-2 ?)");
    expect(line).toContain("(0.0 tok/s)");
    expect(line).not.toContain("throttled");
  });
});

describe("formatCredits", () => {
  it("keeps three significant digits for fractions of a credit", () => {
    expect(formatCredits(0)).toBe("0");
    expect(formatCredits(0.000123456)).toBe("0.000123");
    expect(formatCredits(12.5)).toBe("12.500");
  });
});
