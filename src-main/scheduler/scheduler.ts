import { type Clock, type Logger, type RandomSource, systemClock, systemRandom, systemTimers, type Timers } from "../common/index.js";
import { JOB_LIMITS, SwarmError, jobRequestSchema, type AdvertisedModel, type CapacityAdvertBody, type JobRequest } from "../swarm/index.js";
import { failedJobRun, startJobRun, type JobRun, type JobRunSettings, type WorkerOutcome } from "./job-run.js";
import { createLatencyCache, DEFAULT_LATENCY_CACHE, type LatencyCacheOptions } from "./latency-cache.js";
import { createPeerBackoff, DEFAULT_BACKOFF, type BackoffOptions } from "./peer-backoff.js";
import type { CandidateSource, JobTransport, LatencyProbe, ReputationSource } from "./scheduler-ports.js";
import { DEFAULT_SCORING_WEIGHTS, rankCandidates, type CandidateFacts, type ScoringWeights } from "./worker-scoring.js";

export interface SchedulerOptions {
  /** Attempts per job, hedges included (default 4). */
  maxAttempts?: number;
  /** Start the job on a second worker when the first sends no token within `hedgeAfterMs` (default off). */
  hedge?: boolean;
  hedgeAfterMs?: number;
  /** Passed to the transport: an attempt with no frame for this long is stalled (default JOB_LIMITS.frameDeadlineMs). */
  frameDeadlineMs?: number;
  /** An attempt that sends no token for this long, keepalives notwithstanding, is stalled (default 120 s). */
  tokenGapMs?: number;
  /** Candidates scored per choice, taken in the candidate source's order (default 16). */
  maxScoredCandidates?: number;
  scoring?: Partial<ScoringWeights>;
  backoff?: Partial<BackoffOptions>;
  latency?: Partial<LatencyCacheOptions>;
}

export interface SchedulerComponents {
  transport: JobTransport;
  candidates: CandidateSource;
  latency: LatencyProbe;
  reputation: ReputationSource;
  logger: Logger;
  clock?: Clock;
  timers?: Timers;
  random?: RandomSource;
  /** Hears every attempt's outcome (the trust module adjusts reputation from it). Must not throw. */
  onWorkerOutcome?: (peerId: string, outcome: WorkerOutcome) => void;
  options?: SchedulerOptions;
}

/** A request as the gateway builds it; the scheduler owns `resumeTokens`. */
export type SchedulerJobRequest = Omit<JobRequest, "resumeTokens">;

export interface Scheduler {
  runJob(request: SchedulerJobRequest, options?: { signal?: AbortSignal }): JobRun;
  /** When a backed-off peer may be tried again; undefined if it is not backed off. */
  backedOffUntil(peerId: string): number | undefined;
}

/** A worker that answers these is full or paused, not faulty: skipped briefly, never backed off exponentially. */
const SATURATED_CODES: ReadonlySet<string> = new Set(["ENGINE_BUSY", "ENGINE_PAUSED"]);

function freshAdvert(advert: CapacityAdvertBody | undefined, now: number): CapacityAdvertBody | undefined {
  return advert && advert.expiresAt > now ? advert : undefined;
}

/**
 * The requester side of a job: chooses workers (see worker-scoring.ts), streams the answer, fails over
 * mid-answer with the tokens received so far, hedges a slow start and backs off failing peers.
 */
export function createScheduler(components: SchedulerComponents): Scheduler {
  const { transport, candidates, latency, reputation } = components;
  const clock = components.clock ?? systemClock;
  const timers = components.timers ?? systemTimers;
  const random = components.random ?? systemRandom;
  const logger = components.logger.child({ module: "scheduler" });
  const options = components.options ?? {};
  const weights: ScoringWeights = { ...DEFAULT_SCORING_WEIGHTS, ...options.scoring };
  const backoff = createPeerBackoff({ ...DEFAULT_BACKOFF, ...options.backoff }, clock, random);
  const latencies = createLatencyCache(latency, clock, timers, { ...DEFAULT_LATENCY_CACHE, ...options.latency });
  const maxScored = Math.max(1, options.maxScoredCandidates ?? 16);
  const settings: JobRunSettings = {
    maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 4)),
    hedge: options.hedge ?? false,
    hedgeAfterMs: options.hedgeAfterMs ?? 1500,
    frameDeadlineMs: options.frameDeadlineMs ?? JOB_LIMITS.frameDeadlineMs,
    tokenGapMs: options.tokenGapMs ?? 120_000,
  };

  // Jobs this requester itself has running on each peer, by start time. An advert lags a worker's real
  // load by a gossip round (about a second), longer than a short job: without this, every job of a burst
  // would see the same stale "1 free slot" and queue on the best-ranked worker while others sit idle.
  // Only jobs started after the advert was issued are subtracted; older ones are already in it.
  const ownJobs = new Map<string, number[]>();
  const OWN_JOB_MEMORY_MS = 5 * 60_000;
  function ownJobsSince(peerId: string, issuedAt: number): number {
    return (ownJobs.get(peerId) ?? []).filter((startedAt) => startedAt >= issuedAt).length;
  }
  function ownJobStarted(peerId: string): void {
    const now = clock.now();
    const starts = (ownJobs.get(peerId) ?? []).filter((startedAt) => now - startedAt < OWN_JOB_MEMORY_MS);
    starts.push(now);
    ownJobs.set(peerId, starts);
  }
  function ownJobEnded(peerId: string): void {
    const starts = ownJobs.get(peerId);
    starts?.shift();
    if (starts?.length === 0) ownJobs.delete(peerId);
  }

  function reputationOf(peerId: string): number {
    try {
      return reputation.score(peerId);
    } catch (error) {
      logger.warn({ err: error, peerId }, "reputation lookup failed; using a neutral score");
      return 0.5;
    }
  }

  async function selectWorker(request: JobRequest, exclude: ReadonlySet<string>, receivedTokens: number, signal: AbortSignal): Promise<string | undefined> {
    const found = await candidates.candidates(request.modelSha256, { signal });
    const now = clock.now();
    const eligible: { peerId: string; advert?: CapacityAdvertBody; model?: AdvertisedModel }[] = [];
    const seen = new Set<string>();
    for (const candidate of found) {
      if (eligible.length >= maxScored) break;
      const { peerId } = candidate;
      if (seen.has(peerId) || exclude.has(peerId) || backoff.backedOffUntil(peerId) !== undefined) continue;
      seen.add(peerId);
      // An expired advert says nothing about now; the peer is scored like one found only in the DHT.
      const advert = freshAdvert(candidate.advert, now);
      if (advert && !advert.policy.contribute) continue;
      const model = advert?.models.find((entry) => entry.sha256 === request.modelSha256);
      if (advert && !model) continue; // its own fresh advert says it does not serve this model
      eligible.push({ peerId, ...(advert && { advert }), ...(model && { model }) });
    }
    if (eligible.length === 0) return undefined;
    const measured = await latencies.latencies(eligible.map((entry) => entry.peerId));
    const facts: CandidateFacts[] = eligible.map(({ peerId, advert, model }) => ({
      peerId,
      latencyMs: measured.get(peerId),
      tokensPerSecond: model?.tokensPerSecond,
      ...(advert ? withOwnJobs(advert, ownJobsSince(peerId, advert.issuedAt)) : { freeSlots: undefined, queueLength: undefined }),
      reputation: reputationOf(peerId),
      pricePer1kTokens: model?.pricePer1kTokens,
    }));
    const job = { promptTokens: request.prompt.tokens.length + receivedTokens, answerTokensLeft: request.maxTokens - receivedTokens };
    const ranked = rankCandidates(facts, job, weights, random);
    logger.debug({ jobId: request.jobId, ranked: ranked.slice(0, 4).map((entry) => ({ peerId: entry.peerId, cost: Math.round(entry.rankedCost) })) }, "workers ranked");
    const chosen = ranked[0]?.peerId;
    if (chosen !== undefined) ownJobStarted(chosen);
    return chosen;
  }

  function attemptClosed(peerId: string, outcome: WorkerOutcome): void {
    ownJobEnded(peerId);
    if (outcome.outcome === "failed" && outcome.code !== undefined && SATURATED_CODES.has(outcome.code)) {
      backoff.busy(peerId);
    } else if (outcome.outcome === "failed") {
      const until = backoff.failed(peerId);
      logger.info({ peerId, code: outcome.code, backedOffForMs: until - clock.now() }, "worker backed off");
    } else if (outcome.outcome === "completed") {
      backoff.succeeded(peerId);
    }
    try {
      components.onWorkerOutcome?.(peerId, outcome);
    } catch (error) {
      logger.warn({ err: error, peerId }, "onWorkerOutcome threw; ignored");
    }
  }

  return {
    runJob(request, runOptions = {}) {
      const parsed = jobRequestSchema.safeParse({ ...request, resumeTokens: [] });
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "request"}: ${issue.message}`).join("; ");
        return failedJobRun(String(request.jobId), new SwarmError("SWARM_BAD_REQUEST", `The job request is invalid (${issues}); fix it before sending.`, { retryable: false }));
      }
      return startJobRun({ transport, selectWorker, attemptClosed, timers, clock, logger, settings }, parsed.data, runOptions.signal);
    },
    backedOffUntil: (peerId) => backoff.backedOffUntil(peerId),
  };
}

/** An advert's free slots and queue with `ownSince` jobs of ours added that it cannot know of yet. */
function withOwnJobs(advert: CapacityAdvertBody, ownSince: number): { freeSlots: number; queueLength: number } {
  const freeSlots = Math.max(0, advert.freeSlots - ownSince);
  return { freeSlots, queueLength: advert.queueLength + Math.max(0, ownSince - advert.freeSlots) };
}
