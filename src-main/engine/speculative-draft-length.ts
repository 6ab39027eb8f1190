/**
 * Adaptive draft length: how many tokens to ask the draft for in the next round (0 = plain decoding).
 *
 * Acceptance follows a geometric model: each drafted token is accepted with probability α given the one
 * before was, so a round with k drafted tokens yields E(k) = (1 − α^(k+1)) / (1 − α) tokens (the accepted
 * prefix plus the verifier's own token). Its cost is the draft's wait (transport + drafting, linear in k)
 * plus one verify pass of k+1 tokens (linear too). k maximises E(k) / cost(k); plain decoding yields one
 * token per plain step. The verify pass's cost by batch size is measured once per model (a batch of 2 costs
 * far more than 1 on CPU, then each token adds a little); load on the machine scales it. Every estimate decays, so a link that slows or a draft that degrades moves k
 * toward 0 within a few rounds, and an occasional probe lets a recovered draft back in.
 */

export interface DraftLengthOptions {
  /** The longest draft asked for. */
  maxDraftTokens?: number;
  /** After this many tokens decoded plainly in a row, one short probe round re-measures the draft. */
  probeAfterPlainTokens?: number;
  /** Draft length of a probe round. */
  probeDraftTokens?: number;
  /** Weight of the newest observation in the running estimates (0..1). */
  decay?: number;
  /** Prior acceptance rate before anything is measured. */
  priorAcceptance?: number;
  /** Always draft this many tokens (no adaptation): for tests and for measuring one k in a benchmark. */
  fixedDraftTokens?: number;
  /** Measured verify cost by batch size over a one-token step (index = batch size); a guess if absent. */
  verifyCostRatios?: readonly number[];
}

export interface SpeculationRound {
  /** Tokens the draft proposed (may be fewer than asked). */
  drafted: number;
  /** How many of them the verifier accepted. */
  accepted: number;
  /** Waiting for the draft's answer, transport included. */
  draftWaitMs: number;
  /** The draft's own compute time for this answer, when it reported one. */
  draftComputeMs?: number;
  /** The batched verify pass of drafted + 1 tokens. */
  verifyMs: number;
}

export interface DraftLengthState {
  acceptance: number;
  plainMs: number | undefined;
  verifyScale: number;
  transportMs: number;
  draftMsPerToken: number;
  lastChosen: number;
}

export interface DraftLengthController {
  /** The draft length for the next round. */
  next(): number;
  /** A round in which the draft proposed tokens and the verifier checked them. */
  recordRound(round: SpeculationRound): void;
  /** A plain decoding step (one token) and its time. */
  recordPlainStep(ms: number): void;
  state(): DraftLengthState;
}

export const DEFAULT_DRAFT_LENGTH: Required<Omit<DraftLengthOptions, "fixedDraftTokens" | "verifyCostRatios">> = {
  maxDraftTokens: 12,
  probeAfterPlainTokens: 128,
  probeDraftTokens: 2,
  decay: 0.25,
  // Drafts are the same weights quantized, or a smaller model trained alike: they agree most of the time.
  priorAcceptance: 0.85,
};

/** Expected tokens from one round with k drafted tokens at per-token acceptance α. */
export function expectedTokensPerRound(acceptance: number, k: number): number {
  if (k <= 0) return 1;
  if (acceptance >= 1) return k + 1;
  return (1 - acceptance ** (k + 1)) / (1 - acceptance);
}

/** Verify-pass cost over one plain step by batch size, before anything is measured: a guess. */
export function priorVerifyCostRatio(batchSize: number): number {
  return batchSize <= 1 ? 1 : 1.4 + 0.25 * (batchSize - 1);
}

export function createDraftLengthController(options: DraftLengthOptions = {}): DraftLengthController {
  const config = { ...DEFAULT_DRAFT_LENGTH, ...options };
  const decay = config.decay;
  const ratios = options.verifyCostRatios;
  const ratioOf = (batchSize: number) => ratios?.[batchSize] ?? priorVerifyCostRatio(batchSize);
  // Acceptance as decayed counts of accepted and rejected draft tokens (a rejection ends a round).
  // The prior weighs one round: a draft that fails its first round is dropped at once.
  let acceptedWeight = config.priorAcceptance;
  let rejectedWeight = 1 - config.priorAcceptance;
  let plainMs: number | undefined;
  // Observed verify time over the ratio's prediction: load on the machine moves every batch size alike.
  let verifyScale: number | undefined;
  let transportMs: number | undefined;
  let draftMsPerToken: number | undefined;
  let plainTokensInARow = 0;
  let probeBackoff = 1;
  let roundsRecorded = 0;
  let lastChosen = 0;
  let previousWasRound = false;

  const blend = (old: number | undefined, value: number) => (old === undefined ? value : old + decay * (value - old));
  const acceptance = () => acceptedWeight / (acceptedWeight + rejectedWeight);

  function roundMs(k: number, plain: number): number {
    const verify = plain * ratioOf(k + 1) * (verifyScale ?? 1);
    return (transportMs ?? 0) + (draftMsPerToken ?? plain * 0.15) * k + verify;
  }

  function best(): number {
    if (plainMs === undefined) return 0; // the first step is plain: it measures the reference cost
    const alpha = acceptance();
    let chosen = 0;
    let bestRate = 1 / plainMs;
    for (let k = 1; k <= config.maxDraftTokens; k++) {
      const rate = expectedTokensPerRound(alpha, k) / roundMs(k, plainMs);
      if (rate > bestRate) {
        bestRate = rate;
        chosen = k;
      }
    }
    return chosen;
  }

  return {
    next() {
      let k = options.fixedDraftTokens ?? best();
      if (k === 0 && plainMs !== undefined && plainTokensInARow >= config.probeAfterPlainTokens * probeBackoff) {
        // One short round re-measures acceptance; its timing is not kept (the draft catches up first).
        k = config.probeDraftTokens;
        plainTokensInARow = 0;
        // A probe that does not bring speculation back makes the next one wait twice as long.
        probeBackoff = Math.min(probeBackoff * 2, 16);
      } else if (k > 0) {
        probeBackoff = 1;
        // Until a round was measured, drafts stay short: a bad draft then costs little to find out.
        if (roundsRecorded < 1 && options.fixedDraftTokens === undefined) k = Math.min(k, config.probeDraftTokens + 1);
      }
      lastChosen = k;
      return k;
    },
    recordRound(round) {
      if (round.drafted <= 0) return;
      const accepted = Math.min(round.accepted, round.drafted);
      // Decay the counts by round so old rounds fade; a round with a rejection adds one failure.
      acceptedWeight = acceptedWeight * (1 - decay) + accepted;
      rejectedWeight = rejectedWeight * (1 - decay) + (accepted < round.drafted ? 1 : 0);
      plainTokensInARow = 0;
      roundsRecorded++;
      const steady = previousWasRound;
      previousWasRound = true;
      // A round right after plain steps (or a session's first) includes the draft evaluating every token
      // it missed, and no request sent ahead: not what drafting costs while it runs.
      if (!steady) return;
      if (plainMs !== undefined) verifyScale = blend(verifyScale, Math.min(4, Math.max(0.25, round.verifyMs / (plainMs * ratioOf(round.drafted + 1)))));
      // The draft may have worked on a request sent ahead before the verifier waited: only what the
      // verifier waited for is on the critical path.
      const compute = Math.min(round.draftComputeMs ?? 0, round.draftWaitMs);
      transportMs = blend(transportMs, Math.max(0, round.draftWaitMs - compute));
      draftMsPerToken = blend(draftMsPerToken, compute / round.drafted);
    },
    recordPlainStep(ms) {
      plainMs = blend(plainMs, ms);
      plainTokensInARow++;
      previousWasRound = false;
    },
    state: () => ({
      acceptance: acceptance(),
      plainMs,
      verifyScale: verifyScale ?? 1,
      transportMs: transportMs ?? 0,
      draftMsPerToken: draftMsPerToken ?? 0,
      lastChosen,
    }),
  };
}
