// The trust module's door: judging answers against a validator's scores, attestations, reputation,
// the validation coordinator and hidden challenges. No libp2p in here: the swarm module carries the
// verify protocol and hands the coordinator a `verify` function.
export { SCORE_LIMITS, answerScoresSchema, positionStatSchema, finishReasonSchema, roundStat } from "./answer-scores.js";
export type { AnswerScores, PositionStat, ClaimedFinish, JudgedSampling } from "./answer-scores.js";
export { DEFAULT_TOLERANCE, ENGINE_DEFAULT_SAMPLING_TOP_K, toleranceFor, weightsClassOf, type Tolerance, type WeightsClass } from "./tolerance.js";
export { judgeAnswer, scoringTopKFor, verdictSchema, verdictStatsSchema, verdictReasonSchema } from "./verdict.js";
export type { AnswerClaim, Judgement, Verdict, VerdictReason, VerdictStats } from "./verdict.js";
export { scoreAnswer, DEFAULT_VALIDATOR_TOP_K, type ScoringModel, type ScoreAnswerInput } from "./scoring.js";
export { buildChallengePrompts, seededRandom } from "./challenge-prompts.js";
export { TrustError, type TrustErrorCode } from "./trust-errors.js";
export { attestationBodySchema, signedAttestationSchema, hashTokens, hashScores, attestationSigningBytes } from "./attestation.js";
export type { AttestationBody, SignedAttestation } from "./attestation.js";
export { createReputation, reputationSnapshotSchema, DEFAULT_REPUTATION_WEIGHTS } from "./reputation.js";
export type { Reputation, ReputationEvent, ReputationOptions, ReputationStore, ReputationWeights, ReputationSnapshot, ReputationHistoryEntry, ReputationViewData, PeerStanding, TrustTier, HoldPolicy } from "./reputation.js";
export { createValidationCoordinator } from "./validation-coordinator.js";
export type {
  ValidationCoordinator,
  ValidationCoordinatorDeps,
  ValidationCoordinatorOptions,
  ValidationOutcome,
  ValidatorVote,
  FinishedJob,
  VerificationRequest,
  VerificationAnswer,
} from "./validation-coordinator.js";
export { createChallenger } from "./challenges.js";
export type { Challenger, ChallengerDeps, ChallengerOptions, ChallengeJob, ChallengeAnswer, ChallengeOutcome, ChallengeModel } from "./challenges.js";
export { finishedJobFromRun } from "./finished-job.js";
