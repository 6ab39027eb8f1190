import { z } from "zod";

/**
 * The job protocol: a requester opens one stream per job attempt, sends one `request` frame, and reads
 * worker frames until `end` or `error`. Frames are JSON in unsigned-varint length-prefixed messages.
 * A stream that closes without `end`/`error` is a failed attempt (libp2p can end streams silently).
 */
export const JOB_PROTOCOL_ID = "/inferswarm/job/1.0.0";

export const JOB_LIMITS = {
  /** Largest frame either side accepts; a longer length prefix is rejected before reading the body. */
  maxFrameBytes: 512 * 1024,
  maxPromptTokens: 32_768,
  maxPromptChars: 128 * 1024,
  maxAnswerTokens: 8192,
  maxStopSequences: 4,
  maxStopChars: 64,
  /** The worker sends a keepalive at least this often while a job waits or thinks. */
  keepaliveIntervalMs: 5_000,
  /** The requester gives up on an attempt with no frame for this long. */
  frameDeadlineMs: 15_000,
  /** Tokens per batch frame, and the longest a token waits to be batched. */
  maxTokensPerFrame: 64,
  maxBatchDelayMs: 25,
} as const;

const tokenId = z.number().int().nonnegative().max(0x7fffffff);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

export const samplingSchema = z
  .object({
    temperature: z.number().min(0).max(2).default(0),
    topK: z.number().int().min(1).max(1000).optional(),
    topP: z.number().gt(0).max(1).optional(),
    seed: z.number().int().nonnegative().max(0xffffffff).optional(),
  })
  .strict();

export const jobRequestSchema = z
  .object({
    type: z.literal("request"),
    /** Chosen by the requester; the same id is kept across failover attempts. */
    jobId: z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/),
    modelSha256: sha256Hex,
    /** Tokens are authoritative (worker and validators must see the same ones); text is for logs/UI. */
    prompt: z.object({ tokens: z.array(tokenId).min(1).max(JOB_LIMITS.maxPromptTokens), text: z.string().max(JOB_LIMITS.maxPromptChars).optional() }).strict(),
    sampling: samplingSchema,
    /** Total answer budget, resumed tokens included. */
    maxTokens: z.number().int().min(1).max(JOB_LIMITS.maxAnswerTokens),
    stop: z.array(z.string().min(1).max(JOB_LIMITS.maxStopChars)).max(JOB_LIMITS.maxStopSequences).default([]),
    /** Tokens of the answer already delivered by an earlier attempt: the worker continues after them. */
    resumeTokens: z.array(tokenId).max(JOB_LIMITS.maxAnswerTokens).default([]),
  })
  .strict();

/** How a worker or validator refuses: the same frame on every protocol that answers a request. */
export const errorFrameSchema = z
  .object({
    type: z.literal("error"),
    /** The engine's and swarm's stable codes (ENGINE_BUSY, ENGINE_PAUSED, SWARM_BAD_REQUEST, VERIFY_BUSY, ...). */
    code: z.string().min(1).max(64),
    message: z.string().max(1024),
    /** True when another peer may well succeed (busy, paused, preempted, shutting down). */
    retryable: z.boolean(),
  })
  .strict();

export const workerFrameSchema = z.discriminatedUnion("type", [
  /** The job is admitted; `queuePosition` 0 means it is running. */
  z.object({ type: z.literal("accepted"), queuePosition: z.number().int().nonnegative() }).strict(),
  z.object({ type: z.literal("keepalive") }).strict(),
  /** `index` is the answer position of `ids[0]` (resumed tokens count), so gaps and repeats are detectable. */
  z
    .object({
      type: z.literal("tokens"),
      index: z.number().int().nonnegative(),
      ids: z.array(tokenId).min(1).max(JOB_LIMITS.maxTokensPerFrame),
      texts: z.array(z.string().max(256)).min(1).max(JOB_LIMITS.maxTokensPerFrame),
    })
    .strict()
    .refine((frame) => frame.ids.length === frame.texts.length, "ids and texts must have the same length"),
  z
    .object({
      type: z.literal("end"),
      finishReason: z.enum(["eos", "length", "stop"]),
      promptTokens: z.number().int().nonnegative(),
      /** Answer length including resumed tokens. */
      answerTokens: z.number().int().nonnegative(),
      generatedTokens: z.number().int().nonnegative(),
    })
    .strict(),
  errorFrameSchema,
]);

export type Sampling = z.infer<typeof samplingSchema>;
export type JobRequest = z.infer<typeof jobRequestSchema>;
export type JobRequestInput = z.input<typeof jobRequestSchema>;
export type WorkerFrame = z.infer<typeof workerFrameSchema>;
