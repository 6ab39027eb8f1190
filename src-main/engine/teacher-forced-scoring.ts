import type { ControlledEvaluateInputItem, LlamaContextSequence } from "node-llama-cpp";
import { asToken } from "./llama-tokens.js";

export interface ScoreRequest {
  /** Tokens the answer was generated from (with BOS, as `tokenizePrompt` returns them). */
  promptTokens: readonly number[];
  /** The answer a worker claims the model produced. */
  claimedTokens: readonly number[];
  /** How many of the best tokens to rank the claimed token among (default 8). */
  topK?: number;
  signal?: AbortSignal;
}

/** What this model thinks of one claimed token, given everything before it. */
export interface PositionScore {
  token: number;
  /** 0 when the claimed token is this model's best choice; null when it is outside the top-k. */
  rank: number | null;
  /** best logit − claimed token's logit (>= 0; 0 when it is the best). */
  logitMargin: number;
  /** softmax probability of the claimed token at temperature 1. */
  probability: number;
  bestToken: number;
}

export interface ScoreResult {
  positions: PositionScore[];
  topK: number;
}

export const DEFAULT_SCORE_TOP_K = 8;

/**
 * Teacher forcing: feed prompt + claimed answer in one batched pass and read, at every position, how the
 * model ranks the token that was claimed next. One pass costs far less than generating the same tokens,
 * which is what makes verification and speculative decoding affordable.
 */
export async function scoreClaimedTokens(sequence: LlamaContextSequence, request: ScoreRequest): Promise<ScoreResult> {
  const topK = request.topK ?? DEFAULT_SCORE_TOP_K;
  const { promptTokens, claimedTokens } = request;
  if (claimedTokens.length === 0) return { positions: [], topK };

  const input: ControlledEvaluateInputItem[] = [];
  const feed = [...promptTokens, ...claimedTokens.slice(0, -1)];
  const firstScored = promptTokens.length - 1;
  for (let i = 0; i < feed.length; i++) {
    const token = feed[i]!;
    if (i < firstScored) {
      input.push(asToken(token));
      continue;
    }
    const claimed = claimedTokens[i - firstScored]!;
    input.push([
      asToken(token),
      { generateNext: { logits: { filter: { tokens: [asToken(claimed)], includeTop: topK, includeMax: true } }, totalLogitWeight: true } },
    ]);
  }

  const output = await sequence.controlledEvaluate(input);
  const positions: PositionScore[] = [];
  for (let i = firstScored; i < feed.length; i++) {
    const claimed = claimedTokens[i - firstScored]!;
    const next = output[i]?.next;
    const logits = next?.logits;
    const totalLogitWeight = next?.totalLogitWeight;
    if (!logits || totalLogitWeight === undefined) throw new Error(`llama.cpp returned no logits for position ${i}`);
    positions.push(positionScore(claimed, logits, totalLogitWeight, topK));
  }
  return { positions, topK };
}

/** `logits` is sorted best first (node-llama-cpp's contract) and holds the top-k plus the claimed token. */
export function positionScore(claimed: number, logits: ReadonlyMap<number, number>, totalLogitWeight: number, topK: number): PositionScore {
  const entries = [...logits.entries()];
  const [bestToken, bestLogit] = entries[0]!;
  const claimedLogit = logits.get(claimed);
  if (claimedLogit === undefined) throw new Error(`llama.cpp returned no logit for claimed token ${claimed}`);
  // Ties rank equal: count tokens strictly better than the claimed one.
  const better = entries.filter(([token, logit]) => token !== claimed && logit > claimedLogit).length;
  return {
    token: claimed,
    rank: better < topK ? better : null,
    logitMargin: bestLogit - claimedLogit,
    probability: Math.exp(claimedLogit - bestLogit) / totalLogitWeight,
    bestToken,
  };
}
