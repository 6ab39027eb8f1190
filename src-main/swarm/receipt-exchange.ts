import type { Connection, PrivateKey, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { systemClock, type Clock, type Logger } from "../common/index.js";
import {
  countersignReceipt,
  LedgerError,
  verifyAttestation,
  verifyAttestationEd25519,
  verifyReceipt,
  type AttestationSignatureCheck,
  type EarningState,
  type FinishedJobRecord,
  type Ledger,
  type ReceiptBody,
  type ReceiptRecord,
  type SignedAttestation,
  type SignedReceipt,
} from "../ledger/index.js";
import { createFrameStream, type FrameStream } from "./frame-stream.js";
import {
  RECEIPT_EXCHANGE_LIMITS,
  RECEIPT_PROTOCOL_ID,
  receiptAnswerFrameSchema,
  receiptRequestFrameSchema,
  type ReceiptAnswerFrame,
  type ReceiptRejectionCode,
  type ReceiptRequestFrame,
} from "./receipt-protocol.js";
import { SwarmError } from "./swarm-errors.js";
import type { SwarmLibp2p } from "./swarm-node.js";

export interface ReceiptHandlerOptions {
  /** The worker's identity: it countersigns receipts with it. */
  privateKey: PrivateKey;
  /** The worker's ledger (or anything that stores the same way). */
  ledger: Pick<Ledger, "has" | "getReceipt" | "recordEarned" | "recordAttestation">;
  /** The job this node finished for `requesterPeerId` (see createFinishedJobRegistry), if still remembered. */
  lookupFinishedJob: (jobId: string, requesterPeerId: string) => FinishedJobRecord | undefined;
  /**
   * Trust's say on a validly signed attestation before it moves earnings (e.g. only known validators).
   * Default: any validator other than the worker, delivered by the receipt's requester or the validator.
   */
  acceptAttestation?: (attestation: SignedAttestation, context: { receipt: ReceiptRecord; fromPeerId: string }) => boolean | Promise<boolean>;
  verifyAttestationSignature?: AttestationSignatureCheck;
  onReceiptStored?: (record: ReceiptRecord) => void;
  onAttestationStored?: (record: ReceiptRecord, attestation: SignedAttestation) => void;
  /** For reputation: a peer sent a malformed, forged, altered, replayed or mismatching frame. */
  onMisbehaviour?: (peerId: string, reason: string) => void;
  logger: Logger;
  clock?: Clock;
  requestDeadlineMs?: number;
  writeDeadlineMs?: number;
  maxInboundStreams?: number;
}

export interface ReceiptHandler {
  /** Streams being answered now. */
  active(): number;
  stop(): Promise<void>;
}

export interface SendReceiptOptions {
  signal?: AbortSignal;
  /** Longest wait for the worker's answer once the frame is sent. */
  deadlineMs?: number;
  dialTimeoutMs?: number;
}

type Verdict = { answer: ReceiptAnswerFrame; misbehaviour?: string };

const RETRYABLE_REJECTIONS = new Set<string>(["RECEIPT_SHUTTING_DOWN", "RECEIPT_INTERNAL"] satisfies ReceiptRejectionCode[]);

/** Fields of a receipt that differ from what the worker recorded when it finished the job. */
export function compareWithFinishedJob(body: ReceiptBody, job: FinishedJobRecord): string[] {
  const differing: string[] = [];
  if (body.modelSha256 !== job.modelSha256) differing.push("modelSha256");
  if (body.promptSha256 !== job.promptSha256) differing.push("promptSha256");
  if (body.outputSha256 !== job.outputSha256) differing.push("outputSha256");
  if (body.promptTokens !== job.promptTokens) differing.push("promptTokens");
  if (body.outputTokens !== job.outputTokens) differing.push("outputTokens");
  if (job.pricePer1kTokensMicro !== undefined && body.pricePer1kTokensMicro !== job.pricePer1kTokensMicro) differing.push("pricePer1kTokensMicro");
  return differing;
}

const rejected = (code: ReceiptRejectionCode | LedgerError["code"], message: string, misbehaviour?: string): Verdict => ({
  answer: { type: "rejected", code, message: message.slice(0, 1024) },
  ...(misbehaviour !== undefined && { misbehaviour }),
});

/** Worker side: checks, countersigns and stores receipts, and stores attestations, one frame per stream. */
export async function registerReceiptHandler(node: SwarmLibp2p, options: ReceiptHandlerOptions): Promise<ReceiptHandler> {
  const logger = options.logger.child({ module: "swarm", component: "receipt-exchange" });
  const clock = options.clock ?? systemClock;
  const self = node.peerId.toString();
  const requestDeadlineMs = options.requestDeadlineMs ?? RECEIPT_EXCHANGE_LIMITS.requestDeadlineMs;
  const writeDeadlineMs = options.writeDeadlineMs ?? RECEIPT_EXCHANGE_LIMITS.answerDeadlineMs;
  const attestationCheck = options.verifyAttestationSignature ?? verifyAttestationEd25519;
  const running = new Set<Promise<void>>();
  let stopping = false;

  const misbehaved = (peerId: string, reason: string) => {
    logger.warn({ peerId, reason }, "peer misbehaved on the receipt protocol");
    try {
      options.onMisbehaviour?.(peerId, reason);
    } catch (error) {
      logger.error({ err: error }, "onMisbehaviour hook threw");
    }
  };
  const notify = (hook: () => void) => {
    try {
      hook();
    } catch (error) {
      logger.error({ err: error }, "a receipt hook threw");
    }
  };

  async function onReceipt(receipt: SignedReceipt, from: string): Promise<Verdict> {
    const body = receipt.body;
    if (body.workerPeerId !== self) return rejected("RECEIPT_NOT_FOR_US", `Receipt ${body.receiptId} names worker ${body.workerPeerId}; this node is ${self}.`, "receipt: RECEIPT_NOT_FOR_US");
    if (body.requesterPeerId !== from) {
      return rejected("RECEIPT_SENDER_MISMATCH", `Receipt ${body.receiptId} names requester ${body.requesterPeerId} but came from ${from}; send your own receipts.`, "receipt: RECEIPT_SENDER_MISMATCH");
    }
    try {
      await verifyReceipt({ body, requesterSignature: receipt.requesterSignature }, { requireCountersign: false });
    } catch (error) {
      if (error instanceof LedgerError) return rejected(error.code, error.message, `receipt: ${error.code} (${error.failed ?? "?"})`);
      throw error;
    }
    if (body.finishedAt > clock.now() + RECEIPT_EXCHANGE_LIMITS.maxClockSkewMs) {
      return rejected("RECEIPT_FROM_FUTURE", `Receipt ${body.receiptId} finished at ${body.finishedAt}, in this worker's future; check your clock.`);
    }
    if (options.ledger.has(body.receiptId)) return rejected("LEDGER_RECEIPT_REPLAYED", `Receipt ${body.receiptId} was already countersigned and stored; a receipt is paid once.`, "receipt: LEDGER_RECEIPT_REPLAYED");
    const job = options.lookupFinishedJob(body.jobId, from);
    if (!job) return rejected("RECEIPT_UNKNOWN_JOB", `This worker has no record of job ${body.jobId} finished for ${from}: unknown, or too old (finished jobs are remembered for a bounded time); send receipts right after the job.`);
    const differing = compareWithFinishedJob(body, job);
    if (differing.length > 0) {
      return rejected("RECEIPT_MISMATCH", `Receipt ${body.receiptId} differs from the job this worker ran in ${differing.join(", ")}; sign what you received.`, `receipt: RECEIPT_MISMATCH (${differing.join(",")})`);
    }
    let countersigned: SignedReceipt;
    let record: ReceiptRecord;
    try {
      countersigned = await countersignReceipt({ body, requesterSignature: receipt.requesterSignature }, options.privateKey);
      record = await options.ledger.recordEarned(countersigned);
    } catch (error) {
      if (error instanceof LedgerError) {
        // A concurrent duplicate lost the race to the ledger's unique receipt id.
        if (error.code === "LEDGER_RECEIPT_REPLAYED") return rejected(error.code, error.message, "receipt: LEDGER_RECEIPT_REPLAYED");
        logger.error({ err: error, receiptId: body.receiptId }, "could not store a countersigned receipt");
        return rejected("RECEIPT_INTERNAL", `This worker could not store receipt ${body.receiptId} (${error.code}); try again later.`);
      }
      throw error;
    }
    notify(() => options.onReceiptStored?.(record));
    return { answer: { type: "countersigned", receiptId: body.receiptId, workerSignature: countersigned.workerSignature! } };
  }

  async function onAttestation(receiptId: string, attestation: SignedAttestation, from: string): Promise<Verdict> {
    const { validatorPeerId } = attestation.body;
    const stored = options.ledger.getReceipt(receiptId);
    if (!stored) return rejected("LEDGER_UNKNOWN_RECEIPT", `This worker holds no receipt ${receiptId}; attest receipts after they were countersigned.`);
    if (stored.record.role !== "earned") return rejected("RECEIPT_NOT_FOR_US", `Receipt ${receiptId} is not one this node earned.`);
    if (from !== stored.record.requesterPeerId && from !== validatorPeerId) {
      return rejected("RECEIPT_SENDER_MISMATCH", `Attestations on ${receiptId} come from its requester or its validator, not ${from}.`, "attestation: RECEIPT_SENDER_MISMATCH");
    }
    try {
      await verifyAttestation(attestation, attestationCheck);
    } catch (error) {
      if (error instanceof LedgerError) return rejected(error.code, error.message, `attestation: ${error.code}`);
      throw error;
    }
    const accepted = options.acceptAttestation ? await options.acceptAttestation(attestation, { receipt: stored.record, fromPeerId: from }) : true;
    if (!accepted) return rejected("RECEIPT_ATTESTATION_REFUSED", `This worker does not accept attestations from validator ${validatorPeerId}.`);
    try {
      const outcome = await options.ledger.recordAttestation(attestation, { receiptId });
      notify(() => options.onAttestationStored?.(outcome.record, attestation));
      return { answer: { type: "stored", receiptId, state: outcome.record.state as EarningState } };
    } catch (error) {
      if (error instanceof LedgerError) {
        const peerFault = error.code === "LEDGER_ATTESTATION_FORGED" || error.code === "LEDGER_ATTESTATION_REFUSED" || error.code === "LEDGER_ATTESTATION_REPLAYED" || error.code === "LEDGER_UNKNOWN_RECEIPT";
        if (!peerFault) logger.error({ err: error, receiptId }, "could not store an attestation");
        return peerFault ? rejected(error.code, error.message, `attestation: ${error.code}`) : rejected("RECEIPT_INTERNAL", `This worker could not store the attestation (${error.code}).`);
      }
      throw error;
    }
  }

  async function answer(frames: FrameStream, frame: ReceiptAnswerFrame): Promise<void> {
    try {
      await frames.writeFrame(frame, { deadlineMs: writeDeadlineMs });
      await frames.close();
    } catch {
      frames.abort("could not send the answer");
    }
  }

  async function handle(stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer.toString();
    const frames = createFrameStream(stream, { maxFrameBytes: RECEIPT_EXCHANGE_LIMITS.maxFrameBytes });
    if (stopping) return answer(frames, rejected("RECEIPT_SHUTTING_DOWN", "This worker is shutting down; send the receipt again later.").answer);
    let request: ReceiptRequestFrame;
    try {
      request = await frames.readFrame(receiptRequestFrameSchema, { deadlineMs: requestDeadlineMs });
    } catch (error) {
      const code = error instanceof SwarmError ? error.code : "SWARM_INTERNAL";
      misbehaved(from, `request: ${code}`);
      if (code === "SWARM_NO_END") return frames.abort("the request was truncated");
      return answer(frames, rejected("RECEIPT_BAD_REQUEST", `The receipt request was refused: ${error instanceof Error ? error.message : code}`).answer);
    }
    let verdict: Verdict;
    try {
      verdict = request.type === "receipt" ? await onReceipt(request.receipt, from) : await onAttestation(request.receiptId, request.attestation, from);
    } catch (error) {
      logger.error({ err: error }, "receipt request failed unexpectedly");
      verdict = rejected("RECEIPT_INTERNAL", "This worker failed to handle the request; try again later.");
    }
    if (verdict.misbehaviour) misbehaved(from, verdict.misbehaviour);
    await answer(frames, verdict.answer);
  }

  await node.handle(
    RECEIPT_PROTOCOL_ID,
    (stream, connection) => {
      const work = handle(stream, connection).catch((error: unknown) => {
        logger.error({ err: error }, "receipt handler failed");
        stream.abort(error instanceof Error ? error : new Error(String(error)));
      });
      running.add(work);
      void work.finally(() => running.delete(work));
    },
    { maxInboundStreams: options.maxInboundStreams ?? RECEIPT_EXCHANGE_LIMITS.maxInboundStreams },
  );

  return {
    active: () => running.size,
    async stop() {
      if (stopping) return;
      stopping = true;
      await node.unhandle(RECEIPT_PROTOCOL_ID).catch(() => undefined);
      await Promise.all([...running]);
    },
  };
}

/**
 * Requester side: sends a signed receipt and returns it countersigned, the worker's signature checked.
 * A refusal is SWARM_WORKER_ERROR with the worker's code (e.g. LEDGER_RECEIPT_REPLAYED, RECEIPT_MISMATCH) as
 * `workerCode`; a countersignature that does not verify is LEDGER_RECEIPT_FORGED.
 */
export async function sendReceipt(node: SwarmLibp2p, workerPeerId: string, receipt: SignedReceipt, options: SendReceiptOptions = {}): Promise<SignedReceipt> {
  const request: ReceiptRequestFrame = { type: "receipt", receipt: { body: receipt.body, requesterSignature: receipt.requesterSignature } };
  const frame = await exchange(node, workerPeerId, request, options);
  if (frame.type !== "countersigned" || frame.receiptId !== receipt.body.receiptId) {
    throw new SwarmError("SWARM_BAD_FRAME", `Worker ${workerPeerId} answered a receipt with ${frame.type === "countersigned" ? `a countersignature for ${frame.receiptId}` : `"${frame.type}"`}.`, { retryable: false });
  }
  return verifyReceipt({ body: receipt.body, requesterSignature: receipt.requesterSignature, workerSignature: frame.workerSignature }, { requireCountersign: true });
}

/** Requester (or validator) side: delivers an attestation on `receiptId`; returns the receipt's earnings state at the worker. */
export async function sendAttestation(
  node: SwarmLibp2p,
  workerPeerId: string,
  delivery: { receiptId: string; attestation: SignedAttestation },
  options: SendReceiptOptions = {},
): Promise<{ receiptId: string; state: EarningState }> {
  const frame = await exchange(node, workerPeerId, { type: "attestation", receiptId: delivery.receiptId, attestation: delivery.attestation }, options);
  if (frame.type !== "stored" || frame.receiptId !== delivery.receiptId) {
    throw new SwarmError("SWARM_BAD_FRAME", `Worker ${workerPeerId} answered an attestation with "${frame.type}".`, { retryable: false });
  }
  return { receiptId: frame.receiptId, state: frame.state };
}

async function exchange(node: SwarmLibp2p, workerPeerId: string, request: ReceiptRequestFrame, options: SendReceiptOptions): Promise<Exclude<ReceiptAnswerFrame, { type: "rejected" }>> {
  const { signal } = options;
  const deadlineMs = options.deadlineMs ?? RECEIPT_EXCHANGE_LIMITS.answerDeadlineMs;
  const dialTimeoutMs = options.dialTimeoutMs ?? 10_000;
  let target;
  try {
    target = peerIdFromString(workerPeerId);
  } catch (error) {
    throw new SwarmError("SWARM_DIAL_FAILED", `"${workerPeerId.slice(0, 80)}" is not a peer id.`, { retryable: false, cause: error });
  }
  const timeout = AbortSignal.timeout(dialTimeoutMs);
  let frames: FrameStream;
  try {
    const stream = await node.dialProtocol(target, RECEIPT_PROTOCOL_ID, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    frames = createFrameStream(stream, { maxFrameBytes: RECEIPT_EXCHANGE_LIMITS.maxFrameBytes });
  } catch (error) {
    if (signal?.aborted) throw new SwarmError("SWARM_ABORTED", "Sending the receipt was cancelled while dialling.", { retryable: false, cause: error });
    const why = timeout.aborted ? `no stream within ${dialTimeoutMs} ms` : error instanceof Error ? error.message : String(error);
    throw new SwarmError("SWARM_DIAL_FAILED", `Could not open a receipt stream to ${workerPeerId}: ${why}. Try again later.`, { retryable: true, cause: error });
  }
  let answer: ReceiptAnswerFrame;
  try {
    await frames.writeFrame(request, { deadlineMs, signal });
    answer = await frames.readFrame(receiptAnswerFrameSchema, { deadlineMs, signal });
  } catch (error) {
    frames.abort("the receipt exchange failed");
    throw error;
  }
  void frames.close({ deadlineMs: 2_000 });
  if (answer.type === "rejected") {
    throw new SwarmError("SWARM_WORKER_ERROR", `Worker ${workerPeerId} refused: ${answer.code}: ${answer.message}`, { retryable: RETRYABLE_REJECTIONS.has(answer.code), workerCode: answer.code });
  }
  return answer;
}
