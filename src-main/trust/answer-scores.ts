import { z } from "zod";

/** Bounds shared by the validator, the verify protocol and the requester's re-check. */
export const SCORE_LIMITS = {
  /** Longest answer a validator scores in one request (a longer one is verified by its first part or not at all). */
  maxAnswerTokens: 4096,
  maxPromptTokens: 16_384,
  /** Deepest top-k a validator ranks claimed tokens in. */
  maxTopK: 100,
} as const;

/**
 * One scored position: [rank, logit margin, probability]. rank is the claimed token's place in the
 * validator's top-k (0 = its best; -1 = outside the top-k); the margin is best logit − claimed logit (>= 0);
 * the probability is the claimed token's softmax probability at temperature 1. A tuple keeps a
 * 4096-token answer's scores near 100 KB on the wire.
 */
export const positionStatSchema = z.tuple([
  z.number().int().min(-1).max(SCORE_LIMITS.maxTopK),
  z.number().min(0).max(1e6),
  z.number().min(0).max(1),
]);
export type PositionStat = z.infer<typeof positionStatSchema>;

/** What a validator measured on an answer: every claimed token, and the end token when the answer claims one. */
export const answerScoresSchema = z
  .object({
    topK: z.number().int().min(1).max(SCORE_LIMITS.maxTopK),
    positions: z.array(positionStatSchema).max(SCORE_LIMITS.maxAnswerTokens),
    /**
     * For finish "eos": the model's end-of-sequence token scored right after the answer, and whether the
     * validator's best token there ends generation (another end token, e.g. EOT, counts as an end). null
     * for other finishes, or when the model has no EOS token.
     */
    end: z.object({ stat: positionStatSchema, bestIsEndToken: z.boolean() }).strict().nullable(),
  })
  .strict();
export type AnswerScores = z.infer<typeof answerScoresSchema>;

export const finishReasonSchema = z.enum(["eos", "length", "stop"]);
export type ClaimedFinish = z.infer<typeof finishReasonSchema>;

/** Sampling settings that matter to a judgement (the job protocol's sampling, seed aside). */
export interface JudgedSampling {
  temperature: number;
  topK?: number | undefined;
  topP?: number | undefined;
}

/** Rounds for the wire: 6 decimals are far below any tolerance, and both sides judge the same rounded values. */
export function roundStat(rank: number | null, margin: number, probability: number): PositionStat {
  const clampedMargin = Number.isFinite(margin) ? Math.min(Math.max(margin, 0), 1e6) : 1e6;
  const clampedProbability = Number.isFinite(probability) ? Math.min(Math.max(probability, 0), 1) : 0;
  return [rank ?? -1, Math.round(clampedMargin * 1e6) / 1e6, Math.round(clampedProbability * 1e6) / 1e6];
}
