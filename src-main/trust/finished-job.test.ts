import { describe, expect, it } from "vitest";
import type { AttemptRecord, JobRunResult } from "../scheduler/index.js";
import { finishedJobFromRun } from "./finished-job.js";

const attempt = (peerId: string, firstIndex: number, tokensReceived: number, outcome: AttemptRecord["outcome"]): AttemptRecord => ({ peerId, firstIndex, tokensReceived, outcome, hedge: false, startedAt: 0, finishedAt: 1 });

describe("finishedJobFromRun", () => {
  it("lists the workers that produced the answer, in answer order, and what the requester asked", () => {
    const result: JobRunResult = {
      finishReason: "length",
      tokens: [5, 6, 7, 8, 9],
      text: "",
      attempts: [attempt("b", 2, 3, "completed"), attempt("a", 0, 2, "failed"), attempt("c", 0, 0, "hedge-lost")],
      workerPeerId: "b",
      promptTokens: 3,
      answerTokens: 5,
    };
    const job = finishedJobFromRun(
      { type: "request", jobId: "job-abcdefgh", modelSha256: "a".repeat(64), prompt: { tokens: [1, 2, 3] }, sampling: { temperature: 0 }, maxTokens: 5, stop: ["\n"] },
      result,
      { observedTokensPerSecond: 50 },
    );
    expect(job).toMatchObject({ workerPeerId: "b", stopRequested: true, maxTokens: 5, promptTokens: [1, 2, 3], observedTokensPerSecond: 50 });
    expect(job.contributors).toEqual([{ peerId: "a", tokens: 2 }, { peerId: "b", tokens: 3 }]);
  });
});
