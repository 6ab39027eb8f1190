import { randomInt } from "node:crypto";
import path from "node:path";
import type { PrivateKey } from "@libp2p/interface";
import { backgroundTimers, systemClock, systemRandom, type Logger } from "../common/index.js";
import type { LoadedModel } from "../engine/index.js";
import { createJsonFileStore } from "../hardware/index.js";
import { newJobId, type JobRunResult, type JobTransport, type SchedulerJobRequest, type WorkerOutcome } from "../scheduler/index.js";
import { registerVerifyHandler, requestVerification, sendAttestation, type AdvertService, type SwarmLibp2p, type VerifyHandler } from "../swarm/index.js";
import {
  buildChallengePrompts,
  createChallenger,
  createReputation,
  createValidationCoordinator,
  finishedJobFromRun,
  type Challenger,
  type ChallengeAnswer,
  type Reputation,
  type ReputationViewData,
  type SignedAttestation,
  type ValidationOutcome,
} from "../trust/index.js";
import { receiptIdOf } from "../ledger/index.js";
import type { NodeConfig } from "./node-config.js";
import type { NodeEarnings } from "./node-earnings.js";

export interface NodeTrustOptions {
  libp2p: SwarmLibp2p;
  privateKey: PrivateKey;
  peerId: string;
  dataDir: string;
  config: NodeConfig["trust"];
  /** The models this node serves, by content hash: it validates and challenges with them. */
  served: ReadonlyMap<string, LoadedModel>;
  adverts: AdvertService;
  earnings: NodeEarnings;
  transport: JobTransport;
  logger: Logger;
}

export interface NodeTrust {
  /** Other peers' standing, from verdicts, challenges, failures and stalls (the scheduler's ReputationSource). */
  readonly reputation: Reputation;
  /** This node's own standing, from the verdicts validators sent about its work. */
  ownStanding(): ReputationViewData;
  /** A validator's verdict on this node's own work arrived (through the receipt protocol). */
  ownVerdict(attestation: { body: { verdict: "pass" | "fail"; validatorPeerId: string; jobId?: string } }): void;
  /** A peer broke one of our protocols (malformed, oversized or late frames): it counts as a failure. */
  peerMisbehaved(peerId: string, reason: string): void;
  /** The scheduler's attempt outcomes: failures and stalls count against a worker. */
  workerOutcome(peerId: string, outcome: WorkerOutcome): void;
  /** Requester side, after the job's receipts: maybe verify the answer, then tell each worker the verdict. */
  jobAnswered(request: SchedulerJobRequest, result: JobRunResult): Promise<ValidationOutcome | undefined>;
  stop(): Promise<void>;
}

/**
 * Trust on a node: the verify protocol's validator (for the models it serves), reputation of other peers
 * (kept in `<dataDir>/trust/`), validation of a sample of its own requests with the verdicts delivered to
 * the workers' ledgers, and hidden challenges sent to workers of the models it serves.
 */
export async function startNodeTrust(options: NodeTrustOptions): Promise<NodeTrust> {
  const logger = options.logger.child({ module: "trust" });
  const { libp2p, adverts, earnings } = options;
  const store = createJsonFileStore({ dir: path.join(options.dataDir, "trust") });
  const reputation = createReputation({ clock: systemClock, store: { read: () => store.read("reputation"), write: (snapshot) => store.write("reputation", snapshot) } });
  const own = createReputation({ clock: systemClock, store: { read: () => store.read("own-standing"), write: (snapshot) => store.write("own-standing", snapshot) } });
  await reputation.load();
  await own.load();
  const misbehaved = (peerId: string, reason: string) => reputation.record(peerId, { kind: "failure", detail: reason.slice(0, 200) });

  let verifier: VerifyHandler | undefined;
  if (options.served.size > 0) {
    verifier = await registerVerifyHandler(libp2p, { resolveModel: (sha256) => options.served.get(sha256), sign: (bytes) => options.privateKey.sign(bytes), logger, onMisbehaviour: misbehaved });
  }

  const candidates = async (modelSha256: string) => (await adverts.candidates(modelSha256)).map((c) => c.peerId).filter((peerId) => peerId !== options.peerId);
  // A peer caught cheating judges nobody: as the first validator its lone "pass" would settle a verdict.
  const validators = async (modelSha256: string) => (await candidates(modelSha256)).filter((peerId) => reputation.tier(peerId) !== "distrusted");
  const coordinator = createValidationCoordinator({
    random: systemRandom,
    candidates: validators,
    verify: (peerId, request, { signal }) => requestVerification(libp2p, peerId, request, { signal, onMisbehaviour: misbehaved }),
    reputation,
    logger,
    options: { sampleRate: options.config.verifyFraction, suspiciousSampleRate: options.config.suspiciousVerifyFraction },
  });

  /** Each worker of the job learns the verdict on its part; a fail goes only to the workers it blames. */
  async function deliverVerdict(outcome: ValidationOutcome, result: JobRunResult, jobId: string) {
    if (outcome.verdict === "inconclusive") return;
    const votes = outcome.votes.filter((vote): vote is typeof vote & { attestation: SignedAttestation } => vote.verdict === outcome.verdict && vote.attestation !== undefined);
    const workers = new Set(result.attempts.filter((a) => a.tokensReceived > 0).map((a) => a.peerId));
    const recipients = outcome.verdict === "fail" ? outcome.blamed.filter((peerId) => workers.has(peerId)) : [...workers];
    for (const workerPeerId of recipients) {
      const receiptId = receiptIdOf(jobId, workerPeerId);
      if (!earnings.ledger.has(receiptId)) continue; // the worker never countersigned: nothing to attest
      for (const vote of votes) {
        try {
          await earnings.ledger.recordAttestation(vote.attestation, { receiptId });
          await sendAttestation(libp2p, workerPeerId, { receiptId, attestation: vote.attestation });
        } catch (error) {
          logger.warn({ err: error, receiptId, validator: vote.validatorPeerId }, "an attestation could not be delivered");
        }
      }
    }
  }

  const challengers: Challenger[] = [];
  if (options.config.challengeEveryMinutes > 0) {
    for (const model of options.served.values()) {
      const challenger = createChallenger({
        model,
        // A secret seed per node and start: a worker cannot learn the bank.
        prompts: buildChallengePrompts({ seed: randomInt(2 ** 31), count: 500 }),
        runJob: (peerId, job, { signal }) => collectAnswer(options.transport, peerId, job, signal),
        targets: candidates,
        reputation,
        random: systemRandom,
        timers: backgroundTimers,
        clock: systemClock,
        logger,
        onOutcome: (outcome) => logger.info({ worker: outcome.peerId, verdict: outcome.verdict, code: outcome.error?.code }, "hidden challenge judged"),
        options: { meanIntervalMs: options.config.challengeEveryMinutes * 60_000, newJobId },
      });
      challenger.start();
      challengers.push(challenger);
    }
  }

  return {
    reputation,
    ownStanding: () => own.view(options.peerId),
    peerMisbehaved: misbehaved,
    workerOutcome(peerId, outcome) {
      if (outcome.outcome === "completed") reputation.record(peerId, { kind: "completed" });
      else if (outcome.outcome === "failed") reputation.record(peerId, outcome.code === "SWARM_STALLED" ? { kind: "stall" } : { kind: "failure", detail: outcome.code });
    },
    async jobAnswered(request, result) {
      // The speed the last worker delivered at, against its own advertised benchmark (too fast is suspicious).
      const last = result.attempts.findLast((a) => a.peerId === result.workerPeerId);
      const seconds = last?.finishedAt !== undefined ? (last.finishedAt - last.startedAt) / 1000 : 0;
      const speeds = {
        observedTokensPerSecond: last && seconds > 0 ? last.tokensReceived / seconds : undefined,
        advertisedTokensPerSecond: adverts.advertisedModel(result.workerPeerId, request.modelSha256)?.tokensPerSecond,
      };
      try {
        const outcome = await coordinator.consider(finishedJobFromRun(request, result, speeds));
        if (outcome) await deliverVerdict(outcome, result, request.jobId);
        return outcome;
      } catch (error) {
        logger.warn({ err: error, jobId: request.jobId }, "validating a job failed");
        return undefined;
      }
    },
    ownVerdict(attestation) {
      const { verdict, validatorPeerId, jobId } = attestation.body;
      own.record(options.peerId, { kind: "verification", verdict, detail: `job ${jobId} checked by ${validatorPeerId.slice(-8)}` });
    },
    async stop() {
      await Promise.all(challengers.map((c) => c.stop()));
      await verifier?.stop();
      await reputation.save().catch((error: unknown) => logger.warn({ err: error }, "could not save reputation"));
      await own.save().catch((error: unknown) => logger.warn({ err: error }, "could not save this node's standing"));
    },
  };
}

/** A challenge goes out exactly like an ordinary job: the job protocol, and its answer collected. */
async function collectAnswer(transport: JobTransport, peerId: string, job: Parameters<Parameters<typeof createChallenger>[0]["runJob"]>[1], signal: AbortSignal): Promise<ChallengeAnswer> {
  const tokens: number[] = [];
  for await (const frame of transport.openJob(peerId, { type: "request", ...job, resumeTokens: [] }, { signal })) {
    if (frame.type === "tokens") tokens.push(...frame.ids);
    if (frame.type === "end") return { tokens, finishReason: frame.finishReason };
    if (frame.type === "error") throw Object.assign(new Error(frame.message), { code: frame.code });
  }
  throw new Error(`worker ${peerId} closed the challenge without an end frame`);
}
