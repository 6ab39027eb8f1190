import type { Logger, RandomSource } from "../common/index.js";
import type { AnswerScores, ClaimedFinish } from "./answer-scores.js";
import { SCORE_LIMITS } from "./answer-scores.js";
import type { SignedAttestation } from "./attestation.js";
import type { Reputation } from "./reputation.js";
import { toleranceFor } from "./tolerance.js";
import { judgeAnswer, type Judgement, type Verdict } from "./verdict.js";

/** What a validator is asked (the verify protocol's request without its frame type). */
export interface VerificationRequest {
  jobId: string;
  modelSha256: string;
  promptTokens: number[];
  claimedTokens: number[];
  sampling: { temperature: number; topK?: number | undefined; topP?: number | undefined; seed?: number | undefined };
  finishReason: ClaimedFinish;
  maxTokens: number;
}

/** A validator's signed answer, already checked against the request by the transport. */
export interface VerificationAnswer {
  attestation: SignedAttestation;
  scores: AnswerScores;
}

/** A job the requester finished, as the coordinator needs it. */
export interface FinishedJob {
  jobId: string;
  modelSha256: string;
  promptTokens: number[];
  tokens: number[];
  finishReason: ClaimedFinish;
  maxTokens: number;
  sampling: VerificationRequest["sampling"];
  /** Whether the job had stop sequences (a "stop" finish without any is a lie). */
  stopRequested: boolean;
  /** The worker that sent `end`. */
  workerPeerId: string;
  /**
   * Every worker that produced part of the answer, in order, with how many tokens each contributed
   * (failover). Failures are blamed on the worker whose part holds the failing positions; none of them
   * is asked to validate. Default: the whole answer is `workerPeerId`'s.
   */
  contributors?: Array<{ peerId: string; tokens: number }>;
  /** Decode speed the requester saw, and the speed the worker advertised (its own benchmark). */
  observedTokensPerSecond?: number;
  advertisedTokensPerSecond?: number;
}

export interface ValidatorVote {
  validatorPeerId: string;
  /** The verdict recomputed here from the validator's scores (its own verdict string is not trusted). */
  verdict?: Verdict;
  judgement?: Judgement;
  attestation?: SignedAttestation;
  /** Why this validator gave no vote (unreachable, busy, an attestation that did not hold). */
  error?: { code: string; message: string };
}

export interface ValidationOutcome {
  jobId: string;
  workerPeerId: string;
  /** "inconclusive": no validator answered, or the quorum split evenly. */
  verdict: Verdict | "inconclusive";
  votes: ValidatorVote[];
  /** Peers blamed for a fail (the contributors whose part of the answer failed). */
  blamed: string[];
}

export interface ValidationCoordinatorOptions {
  /** Fraction of ordinary jobs verified. Default 0.1. */
  sampleRate?: number;
  /** Fraction for suspicious peers: new, on probation or distrusted, faster than advertised, aborting often. Default 0.5. */
  suspiciousSampleRate?: number;
  /** Validators that decide a disputed answer, the first one included. Default 3. */
  quorum?: number;
  /** Observed speed above advertised × this is suspicious. Default 1.5. */
  fasterThanAdvertFactor?: number;
  /** Failures + stalls over all attempts above this (after `minJobsForAbortRate` attempts) is suspicious. Default 0.2. */
  abortRate?: number;
  minJobsForAbortRate?: number;
  /** Per validator request. Default 60 s. */
  verifyDeadlineMs?: number;
}

export interface ValidationCoordinatorDeps {
  random: RandomSource;
  /** Peers that serve the model (the worker may be among them; it is skipped). */
  candidates: (modelSha256: string) => Promise<string[]>;
  /** Asks one validator over the verify protocol (swarm's `requestVerification`). */
  verify: (validatorPeerId: string, request: VerificationRequest, options: { signal: AbortSignal }) => Promise<VerificationAnswer>;
  reputation: Reputation;
  logger: Logger;
  /** For the ledger: every attestation that was part of a decision, with the final verdict. */
  onOutcome?: (outcome: ValidationOutcome) => void;
  options?: ValidationCoordinatorOptions;
}

export interface ValidationCoordinator {
  /** The probability this job is verified, from the worker's standing and behaviour. */
  checkRate(job: FinishedJob): number;
  /** Decides by chance (checkRate) whether to verify; undefined when not chosen or not verifiable. */
  consider(job: FinishedJob, options?: { signal?: AbortSignal }): Promise<ValidationOutcome | undefined>;
  /** Verifies now, whatever the rate. */
  validate(job: FinishedJob, options?: { signal?: AbortSignal }): Promise<ValidationOutcome>;
}

export function createValidationCoordinator(deps: ValidationCoordinatorDeps): ValidationCoordinator {
  const { random, reputation } = deps;
  const logger = deps.logger.child({ module: "trust", component: "validation" });
  const options = deps.options ?? {};
  const sampleRate = options.sampleRate ?? 0.1;
  const suspiciousSampleRate = options.suspiciousSampleRate ?? 0.5;
  const quorum = Math.max(1, options.quorum ?? 3);
  const fasterThanAdvertFactor = options.fasterThanAdvertFactor ?? 1.5;
  const abortRate = options.abortRate ?? 0.2;
  const minJobsForAbortRate = options.minJobsForAbortRate ?? 5;
  const verifyDeadlineMs = options.verifyDeadlineMs ?? 60_000;

  function suspicious(job: FinishedJob): boolean {
    const standing = reputation.standing(job.workerPeerId);
    if (standing.tier !== "trusted") return true;
    if (job.observedTokensPerSecond !== undefined && job.advertisedTokensPerSecond !== undefined && job.advertisedTokensPerSecond > 0) {
      // Faster than its own benchmark: a smaller model, cached answers, or invented tokens.
      if (job.observedTokensPerSecond > job.advertisedTokensPerSecond * fasterThanAdvertFactor) return true;
    }
    const attempts = standing.completed + standing.failures + standing.stalls;
    return attempts >= minJobsForAbortRate && (standing.failures + standing.stalls) / attempts > abortRate;
  }

  function checkRate(job: FinishedJob): number {
    return suspicious(job) ? Math.max(sampleRate, suspiciousSampleRate) : sampleRate;
  }

  function request(job: FinishedJob): VerificationRequest {
    return {
      jobId: job.jobId,
      modelSha256: job.modelSha256,
      promptTokens: job.promptTokens,
      claimedTokens: job.tokens,
      sampling: job.sampling,
      finishReason: job.finishReason,
      maxTokens: job.maxTokens,
    };
  }

  /** One validator's vote: its scores re-judged here, with what the requester knows (stop sequences). */
  async function ask(validatorPeerId: string, job: FinishedJob, signal: AbortSignal | undefined): Promise<ValidatorVote> {
    const deadline = AbortSignal.timeout(verifyDeadlineMs);
    try {
      const answer = await deps.verify(validatorPeerId, request(job), { signal: signal ? AbortSignal.any([signal, deadline]) : deadline });
      const judgement = judgeAnswer(
        answer.scores,
        { finishReason: job.finishReason, tokenCount: job.tokens.length, maxTokens: job.maxTokens, stopRequested: job.stopRequested },
        job.sampling,
        toleranceFor(answer.attestation.body.quantization),
      );
      return { validatorPeerId, verdict: judgement.verdict, judgement, attestation: answer.attestation };
    } catch (error) {
      if (signal?.aborted) throw error;
      const code = error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "UNKNOWN";
      logger.debug({ err: error, validatorPeerId, jobId: job.jobId }, "validator gave no vote");
      return { validatorPeerId, error: { code, message: error instanceof Error ? error.message.slice(0, 300) : String(error) } };
    }
  }

  /** Who produced the failing part: failing positions map onto contributors; a bad end is the last one's. */
  function blame(job: FinishedJob, judgement: Judgement | undefined): string[] {
    const contributors = job.contributors && job.contributors.length > 0 ? job.contributors : [{ peerId: job.workerPeerId, tokens: job.tokens.length }];
    if (!judgement || contributors.length === 1) return [job.workerPeerId];
    const blamed = new Set<string>();
    const ends: Array<{ peerId: string; end: number }> = [];
    let offset = 0;
    for (const contributor of contributors) ends.push({ peerId: contributor.peerId, end: (offset += contributor.tokens) });
    for (const position of judgement.failingPositions) {
      const owner = ends.find((segment) => position < segment.end) ?? ends.at(-1)!;
      blamed.add(owner.peerId);
    }
    if (judgement.reasons.some((reason) => reason !== "positions")) blamed.add(job.workerPeerId);
    return blamed.size > 0 ? [...blamed] : [job.workerPeerId];
  }

  async function validate(job: FinishedJob, callOptions: { signal?: AbortSignal } = {}): Promise<ValidationOutcome> {
    const signal = callOptions.signal;
    const excluded = new Set([job.workerPeerId, ...(job.contributors ?? []).map((c) => c.peerId)]);
    const pool = (await deps.candidates(job.modelSha256)).filter((peerId, index, all) => !excluded.has(peerId) && all.indexOf(peerId) === index);
    const pick = () => pool.splice(Math.floor(random() * pool.length), 1)[0];
    const votes: ValidatorVote[] = [];

    const first = pick();
    if (first !== undefined) votes.push(await ask(first, job, signal));
    // A fail or a missing vote is disputed: a quorum decides, so one lying or broken validator cannot.
    if (votes[0]?.verdict !== "pass") {
      // Validators that gave no vote are replaced while candidates remain.
      const counted = () => votes.filter((vote) => vote.verdict !== undefined).length;
      while (counted() < quorum && pool.length > 0) {
        const batch = Array.from({ length: Math.min(quorum - counted(), pool.length) }, () => pick()!);
        votes.push(...(await Promise.all(batch.map((peerId) => ask(peerId, job, signal)))));
      }
    }

    const passes = votes.filter((vote) => vote.verdict === "pass").length;
    const fails = votes.filter((vote) => vote.verdict === "fail").length;
    const verdict: ValidationOutcome["verdict"] = passes > fails ? "pass" : fails > passes ? "fail" : "inconclusive";
    const failingVote = votes.find((vote) => vote.verdict === "fail");
    const blamed = verdict === "fail" ? blame(job, failingVote?.judgement) : [];
    const outcome: ValidationOutcome = { jobId: job.jobId, workerPeerId: job.workerPeerId, verdict, votes, blamed };

    if (verdict === "pass") {
      for (const peerId of new Set([...excluded])) reputation.record(peerId, { kind: "verification", verdict: "pass", detail: `job ${job.jobId}: ${passes} of ${passes + fails} validators passed it` });
    } else if (verdict === "fail") {
      const reasons = failingVote?.judgement?.reasons.join(", ") ?? "";
      for (const peerId of blamed) {
        reputation.record(peerId, { kind: "verification", verdict: "fail", detail: `job ${job.jobId}: ${fails} of ${passes + fails} validators failed it (${reasons})` });
      }
    }
    // A validator outvoted by a clear majority of at least three scored an answer against the others.
    if (verdict !== "inconclusive" && passes + fails >= 3) {
      for (const vote of votes) {
        if (vote.verdict !== undefined && vote.verdict !== verdict) {
          reputation.record(vote.validatorPeerId, { kind: "verification", verdict: "fail", detail: `as a validator of job ${job.jobId}: voted ${vote.verdict} against the quorum` });
        }
      }
    }
    logger.info({ jobId: job.jobId, worker: job.workerPeerId, verdict, passes, fails, noVote: votes.length - passes - fails }, "answer validated");
    try {
      deps.onOutcome?.(outcome);
    } catch (error) {
      logger.error({ err: error }, "onOutcome hook threw");
    }
    return outcome;
  }

  return {
    checkRate,
    validate,
    async consider(job, callOptions = {}) {
      if (job.tokens.length > SCORE_LIMITS.maxAnswerTokens || job.promptTokens.length > SCORE_LIMITS.maxPromptTokens) return undefined;
      if (random() >= checkRate(job)) return undefined;
      return validate(job, callOptions);
    },
  };
}
