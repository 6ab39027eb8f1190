import { describe, expect, it } from "vitest";
import type { ScoreRequest } from "../engine/index.js";
import { SCORE_LIMITS } from "./answer-scores.js";
import { scoreAnswer, type ScoringModel } from "./scoring.js";

function recordingModel() {
  const requests: ScoreRequest[] = [];
  const model: ScoringModel = {
    eosToken: 2,
    isEndOfGenerationToken: (token) => token === 2 || token === 7,
    async score(request) {
      requests.push(request);
      return {
        topK: request.topK ?? 8,
        positions: request.claimedTokens.map((token) => ({ token, rank: token === 2 ? null : 0, logitMargin: token === 2 ? 41.1234567 : 0, probability: token === 2 ? 1e-9 : 0.5, bestToken: token === 2 ? 7 : token })),
      };
    },
  };
  return { model, requests };
}

describe("scoreAnswer", () => {
  it("scores the EOS token after an answer that claims to have ended there", async () => {
    const { model, requests } = recordingModel();
    const scores = await scoreAnswer(model, { promptTokens: [1, 9], claimedTokens: [5, 6], finishReason: "eos", sampling: { temperature: 0 } });
    expect(requests[0]!.claimedTokens).toEqual([5, 6, 2]);
    expect(scores.positions).toEqual([[0, 0, 0.5], [0, 0, 0.5]]);
    // Rounded for the wire; the best token there (7) ends generation too.
    expect(scores.end).toEqual({ stat: [-1, 41.123457, 0], bestIsEndToken: true });
  });

  it("scores only the claimed tokens for other finishes, ranking deep enough for sampled jobs", async () => {
    const { model, requests } = recordingModel();
    const scores = await scoreAnswer(model, { promptTokens: [1], claimedTokens: [5], finishReason: "length", sampling: { temperature: 0.7, topK: 20 } });
    expect(requests[0]).toMatchObject({ claimedTokens: [5], topK: 22 });
    expect(scores).toEqual({ topK: 22, positions: [[0, 0, 0.5]], end: null });
  });

  it("returns no positions for an empty answer, and refuses one beyond the limit", async () => {
    const { model, requests } = recordingModel();
    expect(await scoreAnswer(model, { promptTokens: [1], claimedTokens: [], finishReason: "length", sampling: { temperature: 0 } })).toEqual({ topK: 8, positions: [], end: null });
    expect(requests).toHaveLength(0);
    const long = Array.from({ length: SCORE_LIMITS.maxAnswerTokens + 1 }, () => 5);
    await expect(scoreAnswer(model, { promptTokens: [1], claimedTokens: long, finishReason: "length", sampling: { temperature: 0 } })).rejects.toMatchObject({ code: "TRUST_CANNOT_SCORE" });
  });
});
