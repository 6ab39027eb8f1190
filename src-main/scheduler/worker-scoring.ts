/**
 * How a worker is ranked for a job: an estimate of the time the job would take there, stretched by
 * distrust, plus its price converted to milliseconds. Lower is better.
 *
 *   rtt       = measured ping, or `unknownLatencyMs`
 *   tps       = advertised tokens/s for the model, or `unknownTokensPerSecond`
 *   queueMs   = 0 with a free slot, else (queueLength + 1) × `queuedJobMs` (no advert: one job ahead)
 *   ttftMs    = 2 × rtt + queueMs                        (dial + request, then the wait for a slot)
 *   genMs     = min(budget left, `expectedAnswerTokens`) / tps × 1000
 *   cost      = (ttftMs + genMs) / max(reputation, `minReputation`) ^ `reputationExponent`
 *             + pricePer1kTokens × (prompt + answer tokens) / 1000 × `msPerCredit`
 *   ranked    = cost × (1 + `jitter` × random)           (near-equal peers trade places, load spreads)
 */
export interface ScoringWeights {
  /** Pessimistic round trip for a peer whose latency is unknown. */
  unknownLatencyMs: number;
  /** Pessimistic speed for a peer that advertises none. */
  unknownTokensPerSecond: number;
  /** Expected wait per job ahead in a full worker's queue. */
  queuedJobMs: number;
  /** The answer length the throughput term assumes (capped by the budget left). */
  expectedAnswerTokens: number;
  reputationExponent: number;
  /** Floor under reputation, so a distrusted peer is very expensive but not infinitely so. */
  minReputation: number;
  /** How many milliseconds of waiting one credit is worth to the requester. */
  msPerCredit: number;
  /** Relative spread of the random tie-break: peers within this fraction may trade places. */
  jitter: number;
}

export const DEFAULT_SCORING_WEIGHTS: Readonly<ScoringWeights> = {
  unknownLatencyMs: 1000,
  unknownTokensPerSecond: 2,
  queuedJobMs: 5000,
  expectedAnswerTokens: 256,
  reputationExponent: 1,
  minReputation: 0.05,
  msPerCredit: 1000,
  jitter: 0.1,
};

/** What the scheduler knows about one candidate when it ranks. */
export interface CandidateFacts {
  peerId: string;
  latencyMs: number | undefined;
  /** From the advert's entry for this model; undefined (or 0, "not measured") when unknown. */
  tokensPerSecond: number | undefined;
  /** Undefined without an advert. */
  freeSlots: number | undefined;
  queueLength: number | undefined;
  /** 0..1. */
  reputation: number;
  pricePer1kTokens: number | undefined;
}

export interface JobSize {
  promptTokens: number;
  /** Answer tokens still to come (budget minus tokens already received). */
  answerTokensLeft: number;
}

export interface CostEstimate {
  ttftMs: number;
  generationMs: number;
  priceCredits: number;
  cost: number;
}

export function estimateCost(facts: CandidateFacts, job: JobSize, weights: ScoringWeights): CostEstimate {
  const rtt = facts.latencyMs ?? weights.unknownLatencyMs;
  const tps = facts.tokensPerSecond !== undefined && facts.tokensPerSecond > 0 ? facts.tokensPerSecond : weights.unknownTokensPerSecond;
  const queueMs =
    facts.freeSlots === undefined ? weights.queuedJobMs : facts.freeSlots > 0 ? 0 : ((facts.queueLength ?? 0) + 1) * weights.queuedJobMs;
  const ttftMs = 2 * rtt + queueMs;
  const answerTokens = Math.max(0, Math.min(job.answerTokensLeft, weights.expectedAnswerTokens));
  const generationMs = (answerTokens / tps) * 1000;
  const trust = Math.min(1, Math.max(weights.minReputation, Number.isFinite(facts.reputation) ? facts.reputation : 0));
  const priceCredits = ((facts.pricePer1kTokens ?? 0) * (job.promptTokens + answerTokens)) / 1000;
  const cost = (ttftMs + generationMs) / trust ** weights.reputationExponent + priceCredits * weights.msPerCredit;
  return { ttftMs, generationMs, priceCredits, cost };
}

export interface RankedCandidate {
  peerId: string;
  estimate: CostEstimate;
  rankedCost: number;
}

/** Cheapest first; `random` draws one number per candidate, in input order. */
export function rankCandidates(candidates: readonly CandidateFacts[], job: JobSize, weights: ScoringWeights, random: () => number): RankedCandidate[] {
  return candidates
    .map((facts) => {
      const estimate = estimateCost(facts, job, weights);
      return { peerId: facts.peerId, estimate, rankedCost: estimate.cost * (1 + weights.jitter * random()) };
    })
    .sort((a, b) => a.rankedCost - b.rankedCost);
}
