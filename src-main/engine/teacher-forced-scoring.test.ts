import { describe, expect, it } from "vitest";
import { positionScore } from "./teacher-forced-scoring.js";

describe("positionScore", () => {
  const logits = new Map([
    [7, 5.0],
    [3, 4.0],
    [9, 4.0],
    [1, 2.0],
  ]);
  const total = [5, 4, 4, 2].reduce((sum, l) => sum + Math.exp(l - 5), 0);

  it("ranks the best token 0 with no margin", () => {
    expect(positionScore(7, logits, total, 8)).toMatchObject({ rank: 0, logitMargin: 0, bestToken: 7 });
  });

  it("ranks ties equally and measures the margin to the best logit", () => {
    const score = positionScore(9, logits, total, 8);
    expect(score.rank).toBe(1);
    expect(score.logitMargin).toBe(1);
    expect(score.probability).toBeCloseTo(Math.exp(-1) / total, 12);
  });

  it("reports null rank outside the top-k", () => {
    expect(positionScore(1, logits, total, 2).rank).toBeNull();
    expect(positionScore(1, logits, total, 4).rank).toBe(3);
  });
});
