import { describe, expect, it } from "vitest";
import { DEFAULT_SCORING_WEIGHTS, estimateCost, rankCandidates, type CandidateFacts } from "./worker-scoring.js";

const base: Omit<CandidateFacts, "peerId"> = {
  latencyMs: 20,
  tokensPerSecond: 50,
  freeSlots: 1,
  queueLength: 0,
  reputation: 0.8,
  pricePer1kTokens: 0,
};
const job = { promptTokens: 100, answerTokensLeft: 200 };
const peer = (peerId: string, facts: Partial<CandidateFacts> = {}): CandidateFacts => ({ ...base, peerId, ...facts });
const order = (candidates: CandidateFacts[], random: () => number = () => 0) =>
  rankCandidates(candidates, job, DEFAULT_SCORING_WEIGHTS, random).map((ranked) => ranked.peerId);

describe("worker scoring", () => {
  it("estimates time to first token, generation time and price as documented", () => {
    const estimate = estimateCost(peer("p", { latencyMs: 30, freeSlots: 0, queueLength: 1, pricePer1kTokens: 2, reputation: 0.5 }), job, DEFAULT_SCORING_WEIGHTS);
    expect(estimate.ttftMs).toBe(2 * 30 + 2 * DEFAULT_SCORING_WEIGHTS.queuedJobMs);
    expect(estimate.generationMs).toBe((200 / 50) * 1000);
    expect(estimate.priceCredits).toBeCloseTo((2 * 300) / 1000);
    expect(estimate.cost).toBeCloseTo((estimate.ttftMs + estimate.generationMs) / 0.5 + estimate.priceCredits * DEFAULT_SCORING_WEIGHTS.msPerCredit);
  });

  it.each<{ name: string; better: Partial<CandidateFacts>; worse: Partial<CandidateFacts> }>([
    { name: "lower latency", better: { latencyMs: 10 }, worse: { latencyMs: 300 } },
    { name: "a measured latency over an unknown one", better: { latencyMs: 200 }, worse: { latencyMs: undefined } },
    { name: "a free slot over a queue", better: { freeSlots: 1 }, worse: { freeSlots: 0, queueLength: 2 } },
    { name: "a shorter queue", better: { freeSlots: 0, queueLength: 1 }, worse: { freeSlots: 0, queueLength: 5 } },
    { name: "an advert over none", better: {}, worse: { freeSlots: undefined, queueLength: undefined, tokensPerSecond: undefined } },
    { name: "higher throughput", better: { tokensPerSecond: 80 }, worse: { tokensPerSecond: 10 } },
    { name: "a measured speed over 0 (not measured)", better: { tokensPerSecond: 10 }, worse: { tokensPerSecond: 0 } },
    { name: "higher reputation", better: { reputation: 0.9 }, worse: { reputation: 0.3 } },
    { name: "reputation above the floor", better: { reputation: 0.1 }, worse: { reputation: Number.NaN } },
    { name: "a lower price", better: { pricePer1kTokens: 0.5 }, worse: { pricePer1kTokens: 10 } },
  ])("prefers $name", ({ better, worse }) => {
    expect(order([peer("worse", worse), peer("better", better)])).toEqual(["better", "worse"]);
    expect(order([peer("better", better), peer("worse", worse)])).toEqual(["better", "worse"]);
  });

  it("lets near-equal peers trade places by chance, but never far-apart ones", () => {
    const near = [peer("a"), peer("b", { latencyMs: 25 })];
    expect(order(near, () => 0)).toEqual(["a", "b"]);
    const draws = [0.9, 0]; // a is drawn high, b low
    expect(order(near, () => draws.shift() ?? 0)).toEqual(["b", "a"]);

    const far = [peer("a"), peer("b", { tokensPerSecond: 20 })];
    const worst = [1 - Number.EPSILON, 0];
    expect(order(far, () => worst.shift() ?? 0)).toEqual(["a", "b"]);
  });

  it("counts only the budget left, so a nearly finished job weighs latency more than speed", () => {
    const nearlyDone = { promptTokens: 100, answerTokensLeft: 2 };
    const candidates = [peer("near-slow", { latencyMs: 5, tokensPerSecond: 10 }), peer("far-fast", { latencyMs: 400, tokensPerSecond: 100 })];
    expect(rankCandidates(candidates, nearlyDone, DEFAULT_SCORING_WEIGHTS, () => 0)[0]?.peerId).toBe("near-slow");
    expect(rankCandidates(candidates, job, DEFAULT_SCORING_WEIGHTS, () => 0)[0]?.peerId).toBe("far-fast");
  });
});
