import { z } from "zod";
import type { AnswerScores, ClaimedFinish, JudgedSampling, PositionStat } from "./answer-scores.js";
import { DEFAULT_TOLERANCE, ENGINE_DEFAULT_SAMPLING_TOP_K, type Tolerance } from "./tolerance.js";

/** What the worker claims about the answer's shape, beside its tokens. */
export interface AnswerClaim {
  finishReason: ClaimedFinish;
  /** Answer tokens claimed (the end token of an "eos" answer is not among them). */
  tokenCount: number;
  maxTokens: number;
  /** Whether the job had stop sequences; undefined when the judge does not know (a validator). */
  stopRequested?: boolean | undefined;
}

export const verdictSchema = z.enum(["pass", "fail"]);
export type Verdict = z.infer<typeof verdictSchema>;

/** Summary numbers of a judgement: small enough to sign and to store in the ledger. */
export const verdictStatsSchema = z
  .object({
    count: z.number().int().nonnegative(),
    failing: z.number().int().nonnegative(),
    allowedFailing: z.number().int().nonnegative(),
    maxMargin: z.number().nonnegative(),
    meanMargin: z.number().nonnegative(),
    outsideTopK: z.number().int().nonnegative(),
    /** null when the finish has no end token to check ("length", "stop"). */
    endPlausible: z.boolean().nullable(),
  })
  .strict();
export type VerdictStats = z.infer<typeof verdictStatsSchema>;

export const verdictReasonSchema = z.enum(["positions", "end-implausible", "end-missing", "length-mismatch", "stop-without-stop-sequences", "scores-mismatch"]);
export type VerdictReason = z.infer<typeof verdictReasonSchema>;

export interface Judgement {
  verdict: Verdict;
  /** Why it failed (empty on a pass). */
  reasons: VerdictReason[];
  /** Answer positions that fail the tolerance (the first 64). */
  failingPositions: number[];
  stats: VerdictStats;
}

const MAX_LISTED_FAILURES = 64;

/**
 * The one test of an answer against a validator's teacher-forced scores, used by validators, by requesters
 * re-checking a validator's scores, and by challengers. Never equality: batched logits differ slightly
 * from one-token decoding, so a token passes within a tolerance measured in bench/trust.
 *
 * - Greedy (temperature 0): a claimed token passes when its logit is within `greedy.maxMargin` of the best.
 * - Sampled: a claimed token passes when it lies within the job's top-k (the engine's 40 when the job
 *   sets none; two places of slack for near-ties at the edge) and its probability relative to the best token at the job's temperature,
 *   exp(−margin / T), is at least `sampled.minRelativeProbability`.
 * - The answer fails when more positions fail than max(maxFailingPositions, maxFailingFraction × count).
 * - The end: "eos" must be followed by an end token the validator finds plausible by the same test
 *   (this is what catches an answer cut short and labelled as finished); "length" must have exactly
 *   maxTokens tokens; "stop" needs stop sequences in the job (the requester knows; a validator does not).
 */
export function judgeAnswer(scores: AnswerScores, claim: AnswerClaim, sampling: JudgedSampling, tolerance: Tolerance = DEFAULT_TOLERANCE): Judgement {
  const greedy = sampling.temperature <= 0;
  const rule = greedy ? tolerance.greedy : tolerance.sampled;
  const positionFails = (stat: PositionStat) => (greedy ? greedyFails(stat, tolerance) : sampledFails(stat, sampling, scores.topK, tolerance));

  const failingPositions: number[] = [];
  let failing = 0;
  let outsideTopK = 0;
  let maxMargin = 0;
  let marginSum = 0;
  scores.positions.forEach((stat, index) => {
    const [rank, margin] = stat;
    if (rank < 0) outsideTopK++;
    maxMargin = Math.max(maxMargin, margin);
    marginSum += margin;
    if (positionFails(stat)) {
      failing++;
      if (failingPositions.length < MAX_LISTED_FAILURES) failingPositions.push(index);
    }
  });
  const count = scores.positions.length;
  const allowedFailing = Math.floor(Math.max(rule.maxFailingPositions, rule.maxFailingFraction * count));

  const reasons: VerdictReason[] = [];
  if (count !== claim.tokenCount) reasons.push("scores-mismatch");
  if (failing > allowedFailing) reasons.push("positions");

  let endPlausible: boolean | null = null;
  switch (claim.finishReason) {
    case "eos":
      if (!scores.end) {
        reasons.push("end-missing");
        endPlausible = false;
      } else {
        endPlausible = scores.end.bestIsEndToken || !positionFails(scores.end.stat);
        if (!endPlausible) reasons.push("end-implausible");
      }
      // Generation stops at maxTokens before it could read an end token.
      if (claim.tokenCount >= claim.maxTokens) reasons.push("length-mismatch");
      break;
    case "length":
      if (claim.tokenCount !== claim.maxTokens) reasons.push("length-mismatch");
      break;
    case "stop":
      if (claim.stopRequested === false) reasons.push("stop-without-stop-sequences");
      if (claim.tokenCount >= claim.maxTokens) reasons.push("length-mismatch");
      break;
  }

  return {
    verdict: reasons.length === 0 ? "pass" : "fail",
    reasons,
    failingPositions,
    stats: { count, failing, allowedFailing, maxMargin, meanMargin: count === 0 ? 0 : marginSum / count, outsideTopK, endPlausible },
  };
}

function greedyFails([, margin]: PositionStat, tolerance: Tolerance): boolean {
  return margin > tolerance.greedy.maxMargin;
}

function sampledFails([rank, margin]: PositionStat, sampling: JudgedSampling, scoredTopK: number, tolerance: Tolerance): boolean {
  const slack = 2;
  const topK = sampling.topK ?? ENGINE_DEFAULT_SAMPLING_TOP_K;
  // Only decidable when the validator ranked deep enough; otherwise the probability floor alone judges.
  if (topK + slack <= scoredTopK && (rank < 0 || rank >= topK + slack)) return true;
  return margin > sampling.temperature * Math.log(1 / tolerance.sampled.minRelativeProbability);
}

/** How deep a validator should rank for a job's sampling (the top-k test needs the slack places too). */
export function scoringTopKFor(sampling: JudgedSampling, defaultTopK: number, maxTopK: number): number {
  if (sampling.temperature <= 0) return defaultTopK;
  return Math.min(Math.max(defaultTopK, (sampling.topK ?? ENGINE_DEFAULT_SAMPLING_TOP_K) + 2), maxTopK);
}
