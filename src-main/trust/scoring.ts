import type { ScoreRequest, ScoreResult } from "../engine/index.js";
import { roundStat, SCORE_LIMITS, type AnswerScores, type ClaimedFinish, type JudgedSampling } from "./answer-scores.js";
import { scoringTopKFor } from "./verdict.js";
import { TrustError } from "./trust-errors.js";

/** What scoring needs of a loaded model (the engine's LoadedModel has it). */
export interface ScoringModel {
  score(request: ScoreRequest): Promise<ScoreResult>;
  readonly eosToken: number | undefined;
  isEndOfGenerationToken(token: number): boolean;
}

export interface ScoreAnswerInput {
  promptTokens: readonly number[];
  claimedTokens: readonly number[];
  finishReason: ClaimedFinish;
  sampling: JudgedSampling;
  signal?: AbortSignal;
}

export const DEFAULT_VALIDATOR_TOP_K = 8;

/**
 * Teacher-forces prompt + claimed answer through the model and returns the per-position statistics a
 * judgement needs. For finish "eos" the model's EOS token is scored after the answer as well, so an
 * answer cut short and labelled "finished" shows an implausible end.
 */
export async function scoreAnswer(model: ScoringModel, input: ScoreAnswerInput): Promise<AnswerScores> {
  if (input.claimedTokens.length > SCORE_LIMITS.maxAnswerTokens) {
    throw new TrustError("TRUST_CANNOT_SCORE", `The answer has ${input.claimedTokens.length} tokens; a validator scores at most ${SCORE_LIMITS.maxAnswerTokens}.`);
  }
  const topK = scoringTopKFor(input.sampling, DEFAULT_VALIDATOR_TOP_K, SCORE_LIMITS.maxTopK);
  const withEnd = input.finishReason === "eos" && model.eosToken !== undefined;
  const claimed = withEnd ? [...input.claimedTokens, model.eosToken!] : [...input.claimedTokens];
  if (claimed.length === 0) return { topK, positions: [], end: null };
  const result = await model.score({ promptTokens: input.promptTokens, claimedTokens: claimed, topK, ...(input.signal && { signal: input.signal }) });
  const stats = result.positions.map((p) => roundStat(p.rank, p.logitMargin, p.probability));
  if (!withEnd) return { topK, positions: stats, end: null };
  const endPosition = result.positions.at(-1)!;
  return { topK, positions: stats.slice(0, -1), end: { stat: stats.at(-1)!, bestIsEndToken: model.isEndOfGenerationToken(endPosition.bestToken) } };
}
