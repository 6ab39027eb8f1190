import { describe, expect, it } from "vitest";
import type { AnswerScores, PositionStat } from "./answer-scores.js";
import { toleranceFor } from "./tolerance.js";
import { judgeAnswer, scoringTopKFor } from "./verdict.js";

const best: PositionStat = [0, 0, 0.9];
const scores = (positions: PositionStat[], end: AnswerScores["end"] = null, topK = 8): AnswerScores => ({ topK, positions, end });
const greedy = { temperature: 0 };
const f32 = toleranceFor("F32");

describe("judgeAnswer, greedy jobs", () => {
  it("passes an answer whose every token is the validator's best or within ε of it", () => {
    const judgement = judgeAnswer(scores([best, [1, 0.004, 0.45], best]), { finishReason: "length", tokenCount: 3, maxTokens: 3 }, greedy, f32);
    expect(judgement.verdict).toBe("pass");
    expect(judgement.stats).toMatchObject({ count: 3, failing: 0, maxMargin: 0.004, outsideTopK: 0, endPlausible: null });
  });

  it("fails an answer with a token beyond ε and lists the position", () => {
    const judgement = judgeAnswer(scores([best, best, [3, 2.5, 0.01], [-1, 40, 0]]), { finishReason: "length", tokenCount: 4, maxTokens: 4 }, greedy, f32);
    expect(judgement.verdict).toBe("fail");
    expect(judgement.reasons).toEqual(["positions"]);
    expect(judgement.failingPositions).toEqual([2, 3]);
    expect(judgement.stats).toMatchObject({ failing: 2, outsideTopK: 1, maxMargin: 40 });
  });

  it("allows failing positions up to the larger of the count and the fraction", () => {
    const tolerance = { ...f32, greedy: { maxMargin: 0.05, maxFailingPositions: 1, maxFailingFraction: 0.25 } };
    const eight: PositionStat[] = [[2, 1, 0.1], [2, 1, 0.1], best, best, best, best, best, best];
    expect(judgeAnswer(scores(eight), { finishReason: "length", tokenCount: 8, maxTokens: 8 }, greedy, tolerance).verdict).toBe("pass");
    const three: PositionStat[] = [[2, 1, 0.1], [2, 1, 0.1], [2, 1, 0.1], best, best, best, best, best];
    expect(judgeAnswer(scores(three), { finishReason: "length", tokenCount: 8, maxTokens: 8 }, greedy, tolerance).verdict).toBe("fail");
  });

  it("uses a wider ε for quantized weights, whose honest numerics drift more", () => {
    const drift: PositionStat[] = [best, [1, 0.3, 0.3]];
    const claim = { finishReason: "length" as const, tokenCount: 2, maxTokens: 2 };
    expect(judgeAnswer(scores(drift), claim, greedy, toleranceFor("F32")).verdict).toBe("fail");
    expect(judgeAnswer(scores(drift), claim, greedy, toleranceFor("Q8_0")).verdict).toBe("pass");
  });

  it("fails scores that do not cover exactly the claimed tokens", () => {
    expect(judgeAnswer(scores([best]), { finishReason: "length", tokenCount: 2, maxTokens: 2 }, greedy, f32).reasons).toEqual(["scores-mismatch"]);
  });
});

describe("judgeAnswer, the end of the answer", () => {
  it("passes eos when the validator finds the end token plausible there", () => {
    const claim = { finishReason: "eos" as const, tokenCount: 1, maxTokens: 10 };
    expect(judgeAnswer(scores([best], { stat: [0, 0, 0.8], bestIsEndToken: true }), claim, greedy, f32).verdict).toBe("pass");
    // Another end token (EOT) is the validator's best: the answer still ended there.
    expect(judgeAnswer(scores([best], { stat: [1, 3, 0.1], bestIsEndToken: true }), claim, greedy, f32).verdict).toBe("pass");
  });

  it("catches an answer cut short and labelled eos: the end token is implausible there", () => {
    const judgement = judgeAnswer(scores([best, best], { stat: [-1, 60, 0], bestIsEndToken: false }), { finishReason: "eos", tokenCount: 2, maxTokens: 48 }, greedy, f32);
    expect(judgement.verdict).toBe("fail");
    expect(judgement.reasons).toEqual(["end-implausible"]);
    expect(judgement.stats.endPlausible).toBe(false);
  });

  it("fails eos without a scored end, and eos at the full budget", () => {
    expect(judgeAnswer(scores([best]), { finishReason: "eos", tokenCount: 1, maxTokens: 9 }, greedy, f32).reasons).toEqual(["end-missing"]);
    expect(judgeAnswer(scores([best], { stat: [0, 0, 1], bestIsEndToken: true }), { finishReason: "eos", tokenCount: 1, maxTokens: 1 }, greedy, f32).reasons).toEqual(["length-mismatch"]);
  });

  it("catches an answer cut short and labelled length: it must have exactly maxTokens tokens", () => {
    const judgement = judgeAnswer(scores([best, best]), { finishReason: "length", tokenCount: 2, maxTokens: 48 }, greedy, f32);
    expect(judgement.reasons).toEqual(["length-mismatch"]);
  });

  it("fails a stop finish when the requester knows it sent no stop sequences", () => {
    const judge = (stopRequested: boolean | undefined) => judgeAnswer(scores([best]), { finishReason: "stop", tokenCount: 1, maxTokens: 9, stopRequested }, greedy, f32);
    expect(judge(false).reasons).toEqual(["stop-without-stop-sequences"]);
    expect(judge(true).verdict).toBe("pass");
    expect(judge(undefined).verdict).toBe("pass");
  });
});

describe("judgeAnswer, sampled jobs", () => {
  const sampled = { temperature: 0.8, topK: 40 };
  const claim = { finishReason: "length" as const, tokenCount: 3, maxTokens: 3 };
  const depth = scoringTopKFor(sampled, 8, 100);

  it("ranks deep enough for the job's top-k plus slack", () => {
    expect(depth).toBe(42);
    expect(scoringTopKFor({ temperature: 0.7 }, 8, 100)).toBe(42);
    expect(scoringTopKFor(greedy, 8, 100)).toBe(8);
  });

  it("passes plausible samples, unlikely but possible ones included", () => {
    expect(judgeAnswer(scores([[3, 1.2, 0.1], [0, 0, 0.5], [12, 5, 0.001]], null, depth), claim, sampled, f32).verdict).toBe("pass");
  });

  it("fails tokens outside the top-k or far below the probability floor at the job's temperature", () => {
    // rank -1: outside the 42 ranked. Margin 20 at T 0.8: exp(-25) relative probability.
    const judgement = judgeAnswer(scores([[-1, 3, 0.01], [5, 20, 0], [-1, 9, 0]], null, depth), claim, sampled, f32);
    expect(judgement.verdict).toBe("fail");
    expect(judgement.failingPositions).toEqual([0, 1, 2]);
  });

  it("cannot judge rank when the validator ranked shallower than the job's top-k, and leaves it to the floor", () => {
    const shallow = judgeAnswer(scores([[-1, 3, 0.01], [-1, 3, 0.01], [-1, 3, 0.01]], null, 8), claim, sampled, f32);
    expect(shallow.verdict).toBe("pass");
  });
});
