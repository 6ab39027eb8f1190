import type { PrivateKey } from "@libp2p/interface";
import { z } from "zod";
import { MAX_PRICE_PER_1K_MICRO, receiptAmountMicro } from "./credits.js";
import { LedgerError, type ReceiptCheck } from "./ledger-errors.js";
import { hashTokens, peerIdOfKey, signCanonical, verifyCanonical } from "../common/index.js";

export const RECEIPT_LIMITS = {
  /** Prompt (with resumed tokens) and output counts: far above the job protocol's limits, far below float trouble. */
  maxTokens: 1_000_000,
  maxPricePer1kTokensMicro: MAX_PRICE_PER_1K_MICRO,
} as const;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");
/** base58btc, as libp2p prints Ed25519 peer ids ("12D3KooW..."). */
export const peerIdTextSchema = z.string().min(1).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/, "must be a base58 peer id");
/** Same rules as the job protocol's job ids (no ":", so `jobId:workerPeerId` splits one way). */
const jobIdSchema = z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/);
const epochMs = z.number().int().nonnegative().max(8.64e15);
const tokenCount = z.number().int().nonnegative().max(RECEIPT_LIMITS.maxTokens);
export const signatureTextSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64");

/**
 * What the requester says it received from one worker for one job. Structural rules only: the rules
 * that tie fields together (id, amount, times) are checked by `verifyReceipt`, so a broken one is named.
 */
export const receiptBodySchema = z
  .object({
    v: z.literal(1),
    /** `${jobId}:${workerPeerId}`: a job resumed on several workers gives one receipt per worker. */
    receiptId: z.string().min(1).max(200),
    jobId: jobIdSchema,
    requesterPeerId: peerIdTextSchema,
    workerPeerId: peerIdTextSchema,
    modelSha256: sha256Hex,
    /** `hashTokens` over the prompt token ids followed by the resumed answer token ids the worker was given. */
    promptSha256: sha256Hex,
    /** `hashTokens` over the token ids this worker generated. */
    outputSha256: sha256Hex,
    /** Tokens the worker was given: prompt plus resumed answer tokens. */
    promptTokens: tokenCount,
    /** Tokens this worker generated (what is paid for). */
    outputTokens: tokenCount,
    /** Integer micro-credits per 1000 output tokens. */
    pricePer1kTokensMicro: z.number().int().nonnegative().max(RECEIPT_LIMITS.maxPricePer1kTokensMicro),
    /** Integer micro-credits: floor(outputTokens × pricePer1kTokensMicro / 1000). */
    amountMicro: z.number().int().nonnegative(),
    startedAt: epochMs,
    finishedAt: epochMs,
  })
  .strict();

export const signedReceiptSchema = z
  .object({
    body: receiptBodySchema,
    /** The requester's Ed25519 signature over canonicalJson(body), base64. */
    requesterSignature: signatureTextSchema,
    /** The worker's Ed25519 signature over canonicalJson({body, requesterSignature}), base64. */
    workerSignature: signatureTextSchema.optional(),
  })
  .strict();

export type ReceiptBody = z.infer<typeof receiptBodySchema>;
export type SignedReceipt = z.infer<typeof signedReceiptSchema>;

export interface ReceiptInput {
  jobId: string;
  requesterPeerId: string;
  workerPeerId: string;
  modelSha256: string;
  /** The prompt's token ids and then the resumed answer tokens this worker was given. */
  promptTokenIds: readonly number[];
  /** The token ids this worker generated. */
  outputTokenIds: readonly number[];
  pricePer1kTokensMicro: number;
  startedAt: number;
  finishedAt: number;
}

/** sha256 (lowercase hex) over token ids as little-endian u32 bytes: what both sides can compute from ids alone. */
export { hashTokens };

export function receiptIdOf(jobId: string, workerPeerId: string): string {
  return `${jobId}:${workerPeerId}`;
}

/** The body for what one worker delivered; throws (zod) when an input is out of range. */
export function createReceipt(input: ReceiptInput): ReceiptBody {
  return receiptBodySchema.parse({
    v: 1,
    receiptId: receiptIdOf(input.jobId, input.workerPeerId),
    jobId: input.jobId,
    requesterPeerId: input.requesterPeerId,
    workerPeerId: input.workerPeerId,
    modelSha256: input.modelSha256,
    promptSha256: hashTokens(input.promptTokenIds),
    outputSha256: hashTokens(input.outputTokenIds),
    promptTokens: input.promptTokenIds.length,
    outputTokens: input.outputTokenIds.length,
    pricePer1kTokensMicro: input.pricePer1kTokensMicro,
    amountMicro: receiptAmountMicro(input.outputTokenIds.length, input.pricePer1kTokensMicro),
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
  } satisfies ReceiptBody);
}

/** One worker's part of an answer: answer positions [firstIndex, firstIndex + count) came from it. */
export interface WorkerContribution {
  workerPeerId: string;
  firstIndex: number;
  count: number;
  pricePer1kTokensMicro: number;
  startedAt: number;
  finishedAt: number;
}

/**
 * The receipts for a job answered by one or more workers (failover): each worker was given the prompt
 * and the answer before its part (its resume tokens), and is paid for its part. Workers that produced
 * nothing get no receipt.
 */
export function createJobReceipts(job: {
  jobId: string;
  requesterPeerId: string;
  modelSha256: string;
  promptTokenIds: readonly number[];
  answerTokenIds: readonly number[];
  contributions: readonly WorkerContribution[];
}): ReceiptBody[] {
  return job.contributions
    .filter((part) => part.count > 0)
    .map((part) => {
      if (part.firstIndex < 0 || part.firstIndex + part.count > job.answerTokenIds.length) {
        throw new RangeError(`Worker ${part.workerPeerId}'s part [${part.firstIndex}, ${part.firstIndex + part.count}) lies outside the ${job.answerTokenIds.length}-token answer.`);
      }
      return createReceipt({
        jobId: job.jobId,
        requesterPeerId: job.requesterPeerId,
        workerPeerId: part.workerPeerId,
        modelSha256: job.modelSha256,
        promptTokenIds: [...job.promptTokenIds, ...job.answerTokenIds.slice(0, part.firstIndex)],
        outputTokenIds: job.answerTokenIds.slice(part.firstIndex, part.firstIndex + part.count),
        pricePer1kTokensMicro: part.pricePer1kTokensMicro,
        startedAt: part.startedAt,
        finishedAt: part.finishedAt,
      });
    });
}

/** The requester signs; `privateKey` must be the key of `body.requesterPeerId`. */
export async function signReceipt(body: ReceiptBody, privateKey: PrivateKey): Promise<SignedReceipt> {
  if (peerIdOfKey(privateKey) !== body.requesterPeerId) {
    throw new LedgerError("LEDGER_WRONG_KEY", `This key belongs to ${peerIdOfKey(privateKey)}, not to the receipt's requester ${body.requesterPeerId}; sign with the requester's identity.`);
  }
  checkInvariants(body);
  return { body, requesterSignature: await signCanonical(body, privateKey) };
}

/** What the worker's signature covers: the body and the requester's signature together. */
export function countersignedPart(receipt: Pick<SignedReceipt, "body" | "requesterSignature">): { body: ReceiptBody; requesterSignature: string } {
  return { body: receipt.body, requesterSignature: receipt.requesterSignature };
}

/** The worker countersigns after checking the requester's signature; `privateKey` must be the worker's key. */
export async function countersignReceipt(receipt: SignedReceipt, privateKey: PrivateKey): Promise<SignedReceipt> {
  if (peerIdOfKey(privateKey) !== receipt.body.workerPeerId) {
    throw new LedgerError("LEDGER_WRONG_KEY", `This key belongs to ${peerIdOfKey(privateKey)}, not to the receipt's worker ${receipt.body.workerPeerId}; countersign with the worker's identity.`);
  }
  await verifyReceipt(receipt, { requireCountersign: false });
  return { ...countersignedPart(receipt), workerSignature: await signCanonical(countersignedPart(receipt), privateKey) };
}

/**
 * Throws LEDGER_RECEIPT_ALTERED when the receipt breaks its own rules, LEDGER_RECEIPT_FORGED when a
 * signature is not its signer's over these bytes; `error.failed` names the check. Accepts unparsed input.
 */
export async function verifyReceipt(receipt: unknown, options: { requireCountersign: boolean }): Promise<SignedReceipt> {
  const parsed = signedReceiptSchema.safeParse(receipt);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    throw altered("schema", `The receipt breaks the receipt schema${where}: ${issue?.message ?? "invalid"}.`, parsed.error);
  }
  const signed = parsed.data;
  checkInvariants(signed.body);
  const requester = await verifyCanonical(signed.body, signed.body.requesterPeerId, signed.requesterSignature);
  if (requester === "no-key") throw forged("signerKey", `The requester id ${signed.body.requesterPeerId} carries no Ed25519 key to check a signature with.`);
  if (requester !== "ok") {
    throw forged("requesterSignature", `The requester signature of ${signed.body.receiptId} does not match: the receipt was changed after signing, or ${signed.body.requesterPeerId} did not sign it.`);
  }
  if (signed.workerSignature === undefined) {
    if (options.requireCountersign) throw forged("missingWorkerSignature", `Receipt ${signed.body.receiptId} has no worker countersignature; only countersigned receipts are proof of both sides.`);
    return signed;
  }
  const worker = await verifyCanonical(countersignedPart(signed), signed.body.workerPeerId, signed.workerSignature);
  if (worker === "no-key") throw forged("signerKey", `The worker id ${signed.body.workerPeerId} carries no Ed25519 key to check a signature with.`);
  if (worker !== "ok") {
    throw forged("workerSignature", `The worker countersignature of ${signed.body.receiptId} does not match: the receipt was changed after countersigning, or ${signed.body.workerPeerId} did not sign it.`);
  }
  return signed;
}

function checkInvariants(body: ReceiptBody): void {
  if (body.receiptId !== receiptIdOf(body.jobId, body.workerPeerId)) {
    throw altered("receiptId", `Receipt id "${body.receiptId.slice(0, 200)}" is not jobId:workerPeerId ("${receiptIdOf(body.jobId, body.workerPeerId)}").`);
  }
  const expected = receiptAmountMicro(body.outputTokens, body.pricePer1kTokensMicro);
  if (body.amountMicro !== expected) {
    throw altered("amount", `Receipt ${body.receiptId} claims ${body.amountMicro} micro-credits, but ${body.outputTokens} tokens at ${body.pricePer1kTokensMicro} per 1k make ${expected}.`);
  }
  if (body.finishedAt < body.startedAt) throw altered("times", `Receipt ${body.receiptId} finished (${body.finishedAt}) before it started (${body.startedAt}).`);
  if (body.requesterPeerId === body.workerPeerId) throw altered("receiptId", `Receipt ${body.receiptId} names the same peer as requester and worker; a node does not pay itself.`);
}

const altered = (failed: ReceiptCheck, message: string, cause?: unknown) => new LedgerError("LEDGER_RECEIPT_ALTERED", message, { failed, cause });
const forged = (failed: ReceiptCheck, message: string) => new LedgerError("LEDGER_RECEIPT_FORGED", message, { failed });
