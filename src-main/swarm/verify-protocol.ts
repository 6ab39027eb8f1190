import { z } from "zod";
import { answerScoresSchema, finishReasonSchema, SCORE_LIMITS, signedAttestationSchema } from "../trust/index.js";
import { errorFrameSchema, JOB_LIMITS, samplingSchema } from "./job-protocol.js";

/**
 * The verify protocol: a requester opens one stream per verification, sends one `verify` frame (the
 * job's prompt and claimed answer), and reads one frame back: a signed attestation with the per-position
 * scores it was judged from, or an error. The validator scores one answer per model at a time; a few
 * more wait, and beyond that it answers VERIFY_BUSY (retryable: ask another validator).
 */
export const VERIFY_PROTOCOL_ID = "/inferswarm/verify/1.0.0";

export const VERIFY_LIMITS = {
  /** A full request (16k prompt + 4k answer tokens) is ~230 KB and a full answer ~130 KB of JSON. */
  maxFrameBytes: 512 * 1024,
  maxPromptTokens: SCORE_LIMITS.maxPromptTokens,
  maxAnswerTokens: SCORE_LIMITS.maxAnswerTokens,
  /** How long a requester has to send its request after opening the stream. */
  requestDeadlineMs: 10_000,
  /** The requester's default wait for the answer (queue + scoring). */
  responseDeadlineMs: 60_000,
  /** Scorings waiting per model behind the one running; more are refused with VERIFY_BUSY. */
  maxQueuedPerModel: 4,
  maxInboundStreams: 8,
} as const;

/** Error codes a validator sends (beside the swarm's SWARM_BAD_REQUEST / SWARM_MODEL_NOT_SERVED / SWARM_SHUTTING_DOWN). */
export type VerifyErrorCode = "VERIFY_BUSY" | "VERIFY_TOO_LONG" | "VERIFY_FAILED";

const tokenId = z.number().int().nonnegative().max(0x7fffffff);

export const verifyRequestSchema = z
  .object({
    type: z.literal("verify"),
    jobId: z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/),
    modelSha256: z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256"),
    promptTokens: z.array(tokenId).min(1).max(VERIFY_LIMITS.maxPromptTokens),
    claimedTokens: z.array(tokenId).max(VERIFY_LIMITS.maxAnswerTokens),
    sampling: samplingSchema,
    finishReason: finishReasonSchema,
    maxTokens: z.number().int().min(1).max(JOB_LIMITS.maxAnswerTokens),
  })
  .strict();

export const verifyResponseSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("attestation"), attestation: signedAttestationSchema, scores: answerScoresSchema }).strict(),
  errorFrameSchema,
]);

export type VerifyRequest = z.infer<typeof verifyRequestSchema>;
export type VerifyRequestInput = z.input<typeof verifyRequestSchema>;
export type VerifyResponse = z.infer<typeof verifyResponseSchema>;
