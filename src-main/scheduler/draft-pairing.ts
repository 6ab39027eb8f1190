import type { CandidateSource, LatencyProbe, WorkerCandidate } from "./scheduler-ports.js";

/**
 * Pairing a verifier with a draft node (speculative decoding across nodes). A draft helps only when its
 * round trip is small next to the verifier's own decode step, so drafts are chosen by measured ping first
 * (the seed's "sub-swarms by ping"), then by advertised draft speed and free capacity. A candidate whose
 * estimated speedup does not clear `minSpeedup` is not paired at all: the verifier decodes alone.
 */

export interface DraftCandidateFacts {
  peerId: string;
  draftModelSha256: string;
  /** Measured round trip (libp2p ping); undefined when unknown or unreachable. */
  rttMs: number | undefined;
  /** The draft model's advertised greedy decode speed on that node. */
  draftTokensPerSecond: number;
  freeSlots: number;
  contributing: boolean;
}

export interface DraftPairingEstimate {
  peerId: string;
  draftModelSha256: string;
  rttMs: number;
  /** Tokens per second with this draft over the verifier alone, by the geometric acceptance model. */
  expectedSpeedup: number;
  /** The draft length that estimate assumes. */
  draftTokens: number;
}

export interface DraftPairingOptions {
  /** The verifier's own decode speed for the target model (tok/s, from its calibration). */
  verifierTokensPerSecond: number;
  /** Per-token acceptance assumed before any is measured (same weights quantized: high). */
  expectedAcceptance?: number;
  /** A draft farther than this is never paired, whatever else it offers. */
  maxRttMs?: number;
  minSpeedup?: number;
  maxDraftTokens?: number;
  /** Verify pass of n tokens over one decode step, as a function of n (CPU shape by default). */
  verifyCostRatio?: (batchSize: number) => number;
}

export const DEFAULT_DRAFT_PAIRING = { expectedAcceptance: 0.9, maxRttMs: 50, minSpeedup: 1.1, maxDraftTokens: 12 } as const;

const cpuVerifyCostRatio = (batchSize: number) => (batchSize <= 1 ? 1 : 1.4 + 0.25 * (batchSize - 1));

/** Estimated speedup of one pairing, by the geometric acceptance model and the CPU's verify-cost shape. */
export function estimateDraftSpeedup(facts: { rttMs: number; draftTokensPerSecond: number }, options: DraftPairingOptions): { speedup: number; draftTokens: number } {
  const plainMs = 1000 / options.verifierTokensPerSecond;
  const draftMs = facts.draftTokensPerSecond > 0 ? 1000 / facts.draftTokensPerSecond : Infinity;
  const alpha = options.expectedAcceptance ?? DEFAULT_DRAFT_PAIRING.expectedAcceptance;
  const ratio = options.verifyCostRatio ?? cpuVerifyCostRatio;
  let best = { speedup: 1, draftTokens: 0 };
  for (let k = 1; k <= (options.maxDraftTokens ?? DEFAULT_DRAFT_PAIRING.maxDraftTokens); k++) {
    const tokens = alpha >= 1 ? k + 1 : (1 - alpha ** (k + 1)) / (1 - alpha);
    // The draft guesses ahead while the verifier checks: when every token and its guess after them hold
    // (probability α^(k+1)), drafting hides behind the verify pass; otherwise it adds to it.
    const verifyMs = plainMs * ratio(k + 1);
    const draftingMs = facts.rttMs + k * draftMs;
    const allHold = alpha ** (k + 1);
    const roundMs = allHold * Math.max(verifyMs, draftingMs) + (1 - allHold) * (draftingMs + verifyMs);
    const speedup = (tokens / roundMs) * plainMs;
    if (speedup > best.speedup) best = { speedup, draftTokens: k };
  }
  return best;
}

/** Best pairing first; candidates that are unreachable, too far, full or not worth it are left out. */
export function rankDraftCandidates(candidates: readonly DraftCandidateFacts[], options: DraftPairingOptions): DraftPairingEstimate[] {
  const maxRttMs = options.maxRttMs ?? DEFAULT_DRAFT_PAIRING.maxRttMs;
  const minSpeedup = options.minSpeedup ?? DEFAULT_DRAFT_PAIRING.minSpeedup;
  const ranked: DraftPairingEstimate[] = [];
  for (const candidate of candidates) {
    if (candidate.rttMs === undefined || candidate.rttMs > maxRttMs || candidate.freeSlots <= 0 || !candidate.contributing) continue;
    const { speedup, draftTokens } = estimateDraftSpeedup({ rttMs: candidate.rttMs, draftTokensPerSecond: candidate.draftTokensPerSecond }, options);
    if (speedup < minSpeedup) continue;
    ranked.push({ peerId: candidate.peerId, draftModelSha256: candidate.draftModelSha256, rttMs: candidate.rttMs, expectedSpeedup: speedup, draftTokens });
  }
  // Ties in speedup (within 5%) go to the nearer draft: a short link degrades least when it gets busy.
  return ranked.sort((a, b) => (Math.abs(a.expectedSpeedup - b.expectedSpeedup) > 0.05 * b.expectedSpeedup ? b.expectedSpeedup - a.expectedSpeedup : a.rttMs - b.rttMs));
}

export interface DraftPairingComponents {
  /** Nodes advertising a draft model (a draft node serves it like any model, with its measured speed). */
  candidates: CandidateSource;
  latency: LatencyProbe;
  /** This node's id: it never pairs with itself. */
  selfPeerId: string;
}

export interface DraftPairing {
  /**
   * The best draft for a target model among nodes serving one of `draftModels` (models that share the
   * target's tokenizer), or undefined when no draft is worth pairing.
   */
  pick(request: { draftModels: readonly string[]; exclude?: ReadonlySet<string>; signal?: AbortSignal } & DraftPairingOptions): Promise<DraftPairingEstimate | undefined>;
}

export function createDraftPairing(components: DraftPairingComponents): DraftPairing {
  return {
    async pick(request) {
      const facts: DraftCandidateFacts[] = [];
      for (const draftModelSha256 of request.draftModels) {
        const found: WorkerCandidate[] = await components.candidates.candidates(draftModelSha256, { signal: request.signal });
        for (const candidate of found) {
          if (candidate.peerId === components.selfPeerId || request.exclude?.has(candidate.peerId)) continue;
          const advertised = candidate.advert?.models.find((model) => model.sha256 === draftModelSha256);
          facts.push({
            peerId: candidate.peerId,
            draftModelSha256,
            rttMs: undefined,
            draftTokensPerSecond: advertised?.tokensPerSecond ?? 0,
            freeSlots: candidate.advert?.freeSlots ?? 0,
            contributing: candidate.advert?.policy.contribute ?? false,
          });
        }
      }
      // Ping only candidates that could win on everything else.
      const worthPinging = facts.filter((f) => f.freeSlots > 0 && f.contributing && f.draftTokensPerSecond > 0);
      await Promise.all(worthPinging.map(async (f) => (f.rttMs = await components.latency.latencyMs(f.peerId))));
      return rankDraftCandidates(worthPinging, request)[0];
    },
  };
}
