// The scheduler module's door (requester side): choosing workers and failing over mid-answer.
export type { JobTransport, WorkerCandidate, CandidateSource, LatencyProbe, ReputationSource } from "./scheduler-ports.js";
export { createScheduler, type Scheduler, type SchedulerComponents, type SchedulerOptions, type SchedulerJobRequest } from "./scheduler.js";
export type { JobRun, JobRunResult, StreamedToken, AttemptRecord, AttemptOutcome, AttemptError, WorkerOutcome } from "./job-run.js";
export { DEFAULT_SCORING_WEIGHTS, estimateCost, rankCandidates, type ScoringWeights, type CandidateFacts, type CostEstimate, type JobSize } from "./worker-scoring.js";
export { DEFAULT_BACKOFF, type BackoffOptions } from "./peer-backoff.js";
export { DEFAULT_LATENCY_CACHE, type LatencyCacheOptions } from "./latency-cache.js";
export { newJobId } from "./job-ids.js";
export { createDraftPairing, rankDraftCandidates, estimateDraftSpeedup, DEFAULT_DRAFT_PAIRING, type DraftPairing, type DraftPairingComponents, type DraftPairingOptions, type DraftPairingEstimate, type DraftCandidateFacts } from "./draft-pairing.js";
