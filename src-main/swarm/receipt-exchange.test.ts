import { describe, expect, it } from "vitest";
import { createFinishedJobRegistry, createReceipt } from "../ledger/index.js";
import { compareWithFinishedJob } from "./receipt-exchange.js";
import { receiptAnswerFrameSchema, receiptRequestFrameSchema } from "./receipt-protocol.js";

const requesterPeerId = "12D3KooWRequesterRequesterRequesterRequester111111";
const workerPeerId = "12D3KooWWorkerWorkerWorkerWorkerWorkerWorker1111111";

describe("compareWithFinishedJob", () => {
  const registry = createFinishedJobRegistry();
  const job = registry.record({ jobId: "job-cmp-0001", requesterPeerId, modelSha256: "a".repeat(64), promptTokenIds: [1, 2], resumeTokenIds: [9], generatedTokenIds: [3, 4, 5], pricePer1kTokensMicro: 1000 });
  const body = (overrides: { prompt?: number[]; output?: number[]; model?: string; price?: number } = {}) =>
    createReceipt({
      jobId: "job-cmp-0001",
      requesterPeerId,
      workerPeerId,
      modelSha256: overrides.model ?? "a".repeat(64),
      promptTokenIds: overrides.prompt ?? [1, 2, 9],
      outputTokenIds: overrides.output ?? [3, 4, 5],
      pricePer1kTokensMicro: overrides.price ?? 1000,
      startedAt: 1,
      finishedAt: 2,
    });

  it("finds nothing when the receipt is what the worker ran", () => {
    expect(compareWithFinishedJob(body(), job)).toEqual([]);
  });

  it("names every field that differs", () => {
    expect(compareWithFinishedJob(body({ output: [3, 4] }), job)).toEqual(["outputSha256", "outputTokens"]);
    expect(compareWithFinishedJob(body({ output: [3, 4, 6] }), job)).toEqual(["outputSha256"]);
    expect(compareWithFinishedJob(body({ prompt: [1, 2] }), job)).toEqual(["promptSha256", "promptTokens"]);
    expect(compareWithFinishedJob(body({ model: "b".repeat(64), price: 999 }), job)).toEqual(["modelSha256", "pricePer1kTokensMicro"]);
    // A worker that does not know its price leaves it to the requester's advert.
    const { pricePer1kTokensMicro: _price, ...unpriced } = job;
    expect(compareWithFinishedJob(body({ price: 999 }), unpriced)).toEqual([]);
  });
});

describe("the receipt protocol's frames", () => {
  it("refuse unknown types and extra fields", () => {
    expect(receiptRequestFrameSchema.safeParse({ type: "payment" }).success).toBe(false);
    expect(receiptAnswerFrameSchema.safeParse({ type: "rejected", code: "X", message: "m", extra: 1 }).success).toBe(false);
    expect(receiptAnswerFrameSchema.safeParse({ type: "stored", receiptId: "r", state: "spent" }).success).toBe(false);
  });
});
