import { z } from "zod";
import { signedAttestationSchema, signedReceiptSchema } from "../ledger/index.js";

/**
 * The receipt exchange: after a job the requester opens one stream to the worker and sends one frame, a
 * receipt to countersign or (later) a validator's attestation on a receipt; the worker answers with one
 * frame and closes. Frames are JSON in unsigned-varint length-prefixed messages (createFrameStream).
 */
export const RECEIPT_PROTOCOL_ID = "/inferswarm/receipt/1.0.0";

export const RECEIPT_EXCHANGE_LIMITS = {
  /** A signed receipt is ~1.3 KiB, an attestation at most ~8.5 KiB (ATTESTATION_LIMITS). */
  maxFrameBytes: 16 * 1024,
  /** How long the worker waits for the frame after the stream opens. */
  requestDeadlineMs: 5_000,
  /** How long the requester waits for the answer (the worker verifies, signs and commits to disk). */
  answerDeadlineMs: 10_000,
  /** A receipt dated this far in the worker's future is refused (clock skew allowance). */
  maxClockSkewMs: 60_000,
  maxInboundStreams: 16,
} as const;

/** Stable codes in `rejected` frames, besides the ledger's LEDGER_* codes (forged, altered, replayed...). */
export const RECEIPT_REJECTION_CODES = [
  "RECEIPT_BAD_REQUEST",
  "RECEIPT_NOT_FOR_US",
  "RECEIPT_SENDER_MISMATCH",
  "RECEIPT_UNKNOWN_JOB",
  "RECEIPT_MISMATCH",
  "RECEIPT_FROM_FUTURE",
  "RECEIPT_ATTESTATION_REFUSED",
  "RECEIPT_INTERNAL",
  "RECEIPT_SHUTTING_DOWN",
] as const;
export type ReceiptRejectionCode = (typeof RECEIPT_REJECTION_CODES)[number];

export const receiptRequestFrameSchema = z.discriminatedUnion("type", [
  /** A receipt signed by the requester, not yet countersigned. */
  z.object({ type: z.literal("receipt"), receipt: signedReceiptSchema }).strict(),
  /** A validator's signed attestation on a receipt the worker stored earlier (its body may name only the job). */
  z.object({ type: z.literal("attestation"), receiptId: z.string().min(1).max(200), attestation: signedAttestationSchema }).strict(),
]);

export const receiptAnswerFrameSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("countersigned"), receiptId: z.string().min(1).max(200), workerSignature: z.string().min(1).max(128) }).strict(),
  /** The attestation is stored; `state` is the receipt's earnings state after it. */
  z.object({ type: z.literal("stored"), receiptId: z.string().min(1).max(200), state: z.enum(["pending", "held", "payable", "forfeited"]) }).strict(),
  z.object({ type: z.literal("rejected"), code: z.string().min(1).max(64), message: z.string().max(1024) }).strict(),
]);

export type ReceiptRequestFrame = z.infer<typeof receiptRequestFrameSchema>;
export type ReceiptAnswerFrame = z.infer<typeof receiptAnswerFrameSchema>;
