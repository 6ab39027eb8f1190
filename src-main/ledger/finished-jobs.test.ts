import { describe, expect, it } from "vitest";
import { createFinishedJobRegistry } from "./finished-jobs.js";
import { manualClock } from "./ledger.test-support.js";
import { hashTokens } from "./receipt.js";

const job = (jobId: string, requesterPeerId = "peerA") => ({ jobId, requesterPeerId, modelSha256: "a".repeat(64), promptTokenIds: [1, 2], resumeTokenIds: [3], generatedTokenIds: [4, 5, 6] });

describe("the finished-job registry", () => {
  it("keeps hashes and counts of what the worker was given and generated", () => {
    const registry = createFinishedJobRegistry();
    registry.record({ ...job("job-00000001"), pricePer1kTokensMicro: 5 });
    expect(registry.lookup("job-00000001", "peerA")).toMatchObject({ promptSha256: hashTokens([1, 2, 3]), outputSha256: hashTokens([4, 5, 6]), promptTokens: 3, outputTokens: 3, pricePer1kTokensMicro: 5 });
    // The same job id from another requester is another job.
    expect(registry.lookup("job-00000001", "peerB")).toBeUndefined();
    registry.forget("job-00000001", "peerA");
    expect(registry.size()).toBe(0);
  });

  it("forgets jobs after their time and drops the oldest beyond its size", () => {
    const clock = manualClock(1_000);
    const registry = createFinishedJobRegistry({ maxJobs: 3, ttlMs: 100, clock });
    for (let i = 0; i < 5; i++) registry.record(job(`job-0000000${i}`));
    expect(registry.size()).toBe(3);
    expect(registry.lookup("job-00000001", "peerA")).toBeUndefined();
    expect(registry.lookup("job-00000004", "peerA")).toBeDefined();
    clock.advance(100);
    expect(registry.lookup("job-00000004", "peerA")).toBeUndefined();
    expect(registry.size()).toBe(0);
  });
});
