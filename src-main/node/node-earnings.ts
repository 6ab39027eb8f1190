import path from "node:path";
import type { PrivateKey } from "@libp2p/interface";
import { backgroundTimers, systemClock, type Clock, type Logger, type Timers } from "../common/index.js";
import {
  createFinishedJobRegistry,
  createJobReceipts,
  creditsToMicro,
  openLedger,
  signReceipt,
  type Ledger,
  type ReceiptRecord,
  type SignedAttestation,
  type SignedReceipt,
} from "../ledger/index.js";
import type { JobRunResult, SchedulerJobRequest } from "../scheduler/index.js";
import { registerReceiptHandler, sendReceipt, type JobOutcome, type ReceiptHandler, type SwarmLibp2p } from "../swarm/index.js";

/**
 * The AI Horde ladder, on this node's own ledger: a receipt starts "pending" (not yet verified, or still
 * open to dispute). A verified job of a new node becomes "held" (verified, but the node is new) until
 * this many of its jobs were verified; then every held receipt becomes "payable", and later verified ones
 * go straight there. A failed verdict forfeits the job either way. 10 is the count requesters use too
 * (trust's `holdUntilPasses`).
 */
export const HELD_UNTIL_VERIFIED_JOBS = 10;
/** Pending earnings nobody disputed within this window become payable (only a sample is ever verified). */
export const DISPUTE_WINDOW_MS = 24 * 60 * 60 * 1000;
const SETTLE_EVERY_MS = 10 * 60 * 1000;

export interface NodeEarningsOptions {
  libp2p: SwarmLibp2p;
  privateKey: PrivateKey;
  peerId: string;
  dataDir: string;
  logger: Logger;
  /** This node's own price per 1k tokens for a model it serves (credits), as its adverts say. */
  ownPriceOf(modelSha256: string): number | undefined;
  /** A worker's advertised price per 1k tokens for a model (credits), for the requester's receipts. */
  advertisedPriceOf(workerPeerId: string, modelSha256: string): number | undefined;
  onMisbehaviour(peerId: string, reason: string): void;
  onReceiptStored?(record: ReceiptRecord): void;
  onAttestationStored?(record: ReceiptRecord, attestation: SignedAttestation): void;
  clock?: Clock;
  timers?: Timers;
}

export interface NodeEarnings {
  readonly ledger: Ledger;
  /** Worker side: remembers a finished job so its requester's receipt can be checked against it. */
  jobFinished(outcome: JobOutcome): void;
  /**
   * Requester side: one signed receipt per worker that produced part of the answer, countersigned by it and
   * stored as spent. A worker that cannot be reached or refuses is logged, never thrown at the job's caller.
   */
  payForJob(request: SchedulerJobRequest, result: JobRunResult): Promise<SignedReceipt[]>;
  stop(): Promise<void>;
}

/**
 * The node's earnings: the ledger (`<dataDir>/ledger.sqlite` with its head file), the worker's side of the
 * receipt protocol, and the requester's receipts. Verification verdicts arrive as attestations (trust).
 */
export async function startNodeEarnings(options: NodeEarningsOptions): Promise<NodeEarnings> {
  const logger = options.logger.child({ module: "earnings" });
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? backgroundTimers;
  // Held receipts only ever come from verified jobs (the ladder below), so verified = payable + held.
  const verifiedJobs = () => {
    const counts = ledger.stateCounts();
    return counts.payable + counts.held;
  };
  const isNewNode = () => verifiedJobs() < HELD_UNTIL_VERIFIED_JOBS;
  const ledger = await openLedger({
    path: path.join(options.dataDir, "ledger.sqlite"),
    headFile: path.join(options.dataDir, "ledger.head"),
    peerId: options.peerId,
    clock,
    logger,
    // Receipts start pending (not yet verified); a pass makes them held while this node is new.
    verifiedState: () => (isNewNode() ? "held" : "payable"),
  });
  const finishedJobs = createFinishedJobRegistry();

  let handler: ReceiptHandler;
  try {
    handler = await registerReceiptHandler(options.libp2p, {
      privateKey: options.privateKey,
      ledger,
      lookupFinishedJob: (jobId, requester) => finishedJobs.lookup(jobId, requester),
      onMisbehaviour: options.onMisbehaviour,
      onReceiptStored: (record) => {
        finishedJobs.forget(record.jobId, record.requesterPeerId);
        options.onReceiptStored?.(record);
      },
      onAttestationStored: (record, attestation) => {
        if (verifiedJobs() >= HELD_UNTIL_VERIFIED_JOBS) {
          const released = ledger.releaseHeld({ reason: `${HELD_UNTIL_VERIFIED_JOBS} jobs verified: no longer a new node` });
          if (released > 0) logger.info({ released }, "held earnings released");
        }
        options.onAttestationStored?.(record, attestation);
      },
      logger,
      clock,
    });
  } catch (error) {
    ledger.close();
    throw error;
  }

  const settle = () => {
    // A new node's unverified work waits for verification; the dispute window starts counting once it is known.
    if (isNewNode()) return;
    try {
      const settled = ledger.settlePending({ olderThan: clock.now() - DISPUTE_WINDOW_MS, reason: "undisputed for 24 h" });
      if (settled > 0) logger.info({ settled }, "pending earnings settled");
    } catch (error) {
      logger.warn({ err: error }, "settling pending earnings failed");
    }
  };
  let settleTimer = timers.setTimeout(function again() {
    settle();
    settleTimer = timers.setTimeout(again, SETTLE_EVERY_MS);
  }, 0);

  return {
    ledger,
    jobFinished(outcome) {
      if (outcome.generatedTokenIds.length === 0) return;
      const price = options.ownPriceOf(outcome.modelSha256);
      finishedJobs.record({
        jobId: outcome.jobId,
        requesterPeerId: outcome.peerId,
        modelSha256: outcome.modelSha256,
        promptTokenIds: outcome.promptTokenIds,
        resumeTokenIds: outcome.resumeTokenIds,
        generatedTokenIds: outcome.generatedTokenIds,
        ...(price !== undefined && { pricePer1kTokensMicro: creditsToMicro(price) }),
      });
    },
    async payForJob(request, result) {
      const contributions = result.attempts
        .filter((attempt) => attempt.tokensReceived > 0)
        .map((attempt) => ({
          workerPeerId: attempt.peerId,
          firstIndex: attempt.firstIndex,
          count: attempt.tokensReceived,
          pricePer1kTokensMicro: creditsToMicro(options.advertisedPriceOf(attempt.peerId, request.modelSha256) ?? 0),
          startedAt: attempt.startedAt,
          finishedAt: attempt.finishedAt ?? clock.now(),
        }));
      const bodies = createJobReceipts({
        jobId: request.jobId,
        requesterPeerId: options.peerId,
        modelSha256: request.modelSha256,
        promptTokenIds: request.prompt.tokens,
        answerTokenIds: result.tokens,
        contributions,
      });
      const paid: SignedReceipt[] = [];
      for (const body of bodies) {
        try {
          const countersigned = await sendReceipt(options.libp2p, body.workerPeerId, await signReceipt(body, options.privateKey));
          await ledger.recordSpent(countersigned);
          paid.push(countersigned);
        } catch (error) {
          logger.warn({ err: error, jobId: request.jobId, worker: body.workerPeerId }, "a worker's receipt was not countersigned");
        }
      }
      return paid;
    },
    async stop() {
      timers.clearTimeout(settleTimer);
      await handler.stop();
      ledger.close();
    },
  };
}
