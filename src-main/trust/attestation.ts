import { createHash } from "node:crypto";
import { z } from "zod";
import { canonicalJson, hashTokens } from "../common/index.js";
import { finishReasonSchema, type AnswerScores } from "./answer-scores.js";
import { verdictReasonSchema, verdictSchema, verdictStatsSchema } from "./verdict.js";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

/**
 * What a validator signs about one answer: which job, model, prompt and answer (by hash), its verdict
 * and the summary of its scores. The full per-position scores travel beside it and are bound to it by
 * `scoresSha256`, so a ledger keeps the small body and anyone holding the scores can re-judge them.
 */
export const attestationBodySchema = z
  .object({
    jobId: z.string().min(1).max(64),
    validatorPeerId: z.string().min(1).max(128),
    modelSha256: sha256Hex,
    /** The weights the validator serves for this hash ("F32", "Q8_0"…): it selects the tolerance. */
    quantization: z.string().min(1).max(32),
    promptSha256: sha256Hex,
    outputSha256: sha256Hex,
    scoresSha256: sha256Hex,
    finishReason: finishReasonSchema,
    maxTokens: z.number().int().positive(),
    verdict: verdictSchema,
    reasons: z.array(verdictReasonSchema).max(8),
    stats: verdictStatsSchema,
    /** Epoch ms when the validator judged. */
    at: z.number().int().nonnegative(),
  })
  .strict();
export type AttestationBody = z.infer<typeof attestationBodySchema>;

export const signedAttestationSchema = z
  .object({
    body: attestationBodySchema,
    /** Ed25519 signature by the validator's identity key over the body's canonical JSON, base64. */
    signature: z.string().min(1).max(256),
  })
  .strict();
export type SignedAttestation = z.infer<typeof signedAttestationSchema>;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * The hash of a token list as attestations name prompts and answers: sha256 over the ids as little-endian
 * u32, the same function the ledger's receipts use, so an attestation and a receipt of the same job agree.
 */
export { hashTokens };

export function hashScores(scores: AnswerScores): string {
  return sha256(canonicalJson(scores));
}

/** The bytes a validator signs. */
export function attestationSigningBytes(body: AttestationBody): Uint8Array {
  return new TextEncoder().encode(canonicalJson(body));
}
