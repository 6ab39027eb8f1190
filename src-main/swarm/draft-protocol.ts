import { z } from "zod";
import { errorFrameSchema } from "./job-protocol.js";

/**
 * The draft protocol (speculative decoding across nodes): a verifier keeps one long-lived stream per
 * pairing with a draft node (opening a stream costs ~5 ms here, more than a round of drafting). It says
 * `hello` once, then per round sends `propose`: the change to its context since the last round plus how
 * many tokens it wants; the draft answers `proposal`. The context travels as a delta: `base` tokens of the
 * previous context stay, `append` follows them, so a round costs a few tokens on the wire, not the prompt.
 * A stream serves one job at a time and is reused for the next one (a new prompt is a small `base`).
 * Requests are answered in order, and a verifier may send the next one before the answer to the last
 * (betting that its draft is all accepted), so the round trip overlaps its verify pass.
 */
export const DRAFT_PROTOCOL_ID = "/inferswarm/draft/1.0.0";

export const DRAFT_LIMITS = {
  /** A whole prompt in one `append` (32k tokens ≈ 200 KB of JSON) fits. */
  maxFrameBytes: 512 * 1024,
  maxContextTokens: 32_768,
  maxDraftTokens: 32,
  /** The verifier's hello must arrive this soon after the stream opens. */
  helloDeadlineMs: 5_000,
  /** A draft session with no request for this long is closed and its sequence freed. */
  sessionIdleMs: 60_000,
  /** Draft streams per connection (one per concurrent job of the verifier). */
  maxInboundStreams: 8,
} as const;

const tokenId = z.number().int().nonnegative().max(0x7fffffff);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

export const draftHelloSchema = z
  .object({
    type: z.literal("hello"),
    /** The draft model the verifier was paired with (it shares the verifier's tokenizer). */
    draftModelSha256: sha256Hex,
    /** The verifier's vocabulary size: a draft with another vocabulary cannot share its tokens. */
    vocabularySize: z.number().int().positive().max(1_000_000),
  })
  .strict();

export const draftProposeSchema = z
  .object({
    type: z.literal("propose"),
    /** Echoed in the answer, so a late answer is never taken for the current round. */
    round: z.number().int().nonnegative(),
    /** How many tokens of the previous context stay (0 = a new context). */
    base: z.number().int().nonnegative().max(DRAFT_LIMITS.maxContextTokens),
    append: z.array(tokenId).max(DRAFT_LIMITS.maxContextTokens),
    k: z.number().int().min(1).max(DRAFT_LIMITS.maxDraftTokens),
  })
  .strict();

/** The verifier's context while it decodes without the draft: no answer; the draft catches up meanwhile. */
export const draftSyncSchema = z
  .object({
    type: z.literal("sync"),
    base: z.number().int().nonnegative().max(DRAFT_LIMITS.maxContextTokens),
    append: z.array(tokenId).max(DRAFT_LIMITS.maxContextTokens),
  })
  .strict();

export const draftRequestSchema = z.discriminatedUnion("type", [draftHelloSchema, draftProposeSchema, draftSyncSchema]);

export const draftAnswerSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), maxDraftTokens: z.number().int().min(1).max(DRAFT_LIMITS.maxDraftTokens) }).strict(),
  z
    .object({
      type: z.literal("proposal"),
      round: z.number().int().nonnegative(),
      tokens: z.array(tokenId).max(DRAFT_LIMITS.maxDraftTokens),
      /** The draft's guess for the token after `tokens`: the verifier bets on it to send its next request early. */
      next: tokenId.optional(),
      /** The draft's compute time for this answer, so the verifier can tell link time from drafting time. */
      computeMs: z.number().nonnegative().max(600_000),
    })
    .strict(),
  errorFrameSchema,
]);

export type DraftHello = z.infer<typeof draftHelloSchema>;
export type DraftPropose = z.infer<typeof draftProposeSchema>;
export type DraftSync = z.infer<typeof draftSyncSchema>;
export type DraftRequest = z.infer<typeof draftRequestSchema>;
export type DraftAnswer = z.infer<typeof draftAnswerSchema>;
