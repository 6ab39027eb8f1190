import { z } from "zod";
import type { Clock } from "../common/index.js";
import { TrustError } from "./trust-errors.js";

/**
 * What happened with a peer. verification/challenge carry a verdict; failure (an error or a stream that
 * ended without `end`) and stall (no frame within the deadline) count against it; completed (a job
 * answered) only counts, so abort rates can be computed.
 */
export type ReputationEvent =
  | { kind: "verification" | "challenge"; verdict: "pass" | "fail"; detail?: string }
  | { kind: "failure" | "stall"; detail?: string }
  | { kind: "completed" };

export type TrustTier = "new" | "probation" | "trusted" | "distrusted";

/** Earnings from a peer's work: held back (the AI Horde ladder) or pending the ledger's normal course. */
export type HoldPolicy = "held" | "pending";

export interface ReputationWeights {
  /** Each weight moves the score that fraction of the way toward 1 (good news) or 0 (bad news). */
  verificationPass: number;
  verificationFail: number;
  challengePass: number;
  challengeFail: number;
  failure: number;
  stall: number;
}

/**
 * Why these weights: a failed verification or challenge is deliberate cheating far more often than bad
 * luck (the tolerance leaves honest nodes 0 false positives in bench/trust), so one fail takes a trusted
 * peer (~0.8) below the trusted bar and two make it distrusted; a pass is worth little on its own, so
 * trust is earned over many checks. Failures and stalls are mostly bad networks: they weigh little.
 * Challenges weigh a little more than verifications: the challenger computed the answer itself.
 */
export const DEFAULT_REPUTATION_WEIGHTS: ReputationWeights = {
  verificationPass: 0.05,
  verificationFail: 0.5,
  challengePass: 0.06,
  challengeFail: 0.6,
  failure: 0.02,
  stall: 0.02,
};

export interface ReputationOptions {
  clock: Clock;
  /** The score drifts back to neutral (0.5) with this half-life: old news fades. Default 7 days. */
  halfLifeMs?: number;
  weights?: Partial<ReputationWeights>;
  /** Verified passes (verifications + challenges) before a peer's earnings stop being held. Default 10. */
  holdUntilPasses?: number;
  /** At or above: trusted (once out of the "new" tier). Default 0.7. */
  trustedScore?: number;
  /** Below: distrusted (a new peer's first failed check lands at 0.25). Default 0.3. */
  distrustedScore?: number;
  /** Peers kept (least recently seen dropped first). Default 4096. */
  maxPeers?: number;
  /** History entries kept per peer. Default 100. */
  historyPerPeer?: number;
  store?: ReputationStore;
}

/** Where snapshots go: a JSON document written atomically (the hardware module's JSON file store fits). */
export interface ReputationStore {
  read(): Promise<unknown>;
  write(snapshot: unknown): Promise<void>;
}

const historyEntrySchema = z
  .object({
    at: z.number(),
    kind: z.enum(["verification", "challenge", "failure", "stall"]),
    verdict: z.enum(["pass", "fail"]),
    detail: z.string().max(300),
  })
  .strict();
export type ReputationHistoryEntry = z.infer<typeof historyEntrySchema>;

const peerRecordSchema = z
  .object({
    peerId: z.string().min(1).max(128),
    /** The score as of `updatedAt`; read it through decay. */
    score: z.number().min(0).max(1),
    updatedAt: z.number(),
    passes: z.number().int().nonnegative(),
    fails: z.number().int().nonnegative(),
    failures: z.number().int().nonnegative(),
    stalls: z.number().int().nonnegative(),
    completed: z.number().int().nonnegative(),
    history: z.array(historyEntrySchema).max(1000),
  })
  .strict();
type PeerRecord = z.infer<typeof peerRecordSchema>;

export const reputationSnapshotSchema = z.object({ version: z.literal(1), savedAt: z.number(), peers: z.array(peerRecordSchema).max(100_000) }).strict();
export type ReputationSnapshot = z.infer<typeof reputationSnapshotSchema>;

export interface PeerStanding {
  score: number;
  tier: TrustTier;
  passes: number;
  fails: number;
  failures: number;
  stalls: number;
  completed: number;
}

/** Shaped like the dashboard's ReputationView (src-contract/dashboard-api.ts). */
export interface ReputationViewData {
  available: true;
  score: number;
  tier: TrustTier;
  history: ReputationHistoryEntry[];
}

export interface Reputation {
  /** 0 (distrusted) .. 1 (trusted), 0.5 for unknown peers: the scheduler's ReputationSource. */
  score(peerId: string): number;
  tier(peerId: string): TrustTier;
  standing(peerId: string): PeerStanding;
  holdPolicy(peerId: string): HoldPolicy;
  record(peerId: string, event: ReputationEvent): void;
  /** Newest first, at most `limit` (default 500, the dashboard's bound). */
  view(peerId: string, limit?: number): ReputationViewData;
  knownPeers(): number;
  snapshot(): ReputationSnapshot;
  /** Replaces the table with the store's snapshot (nothing stored: empty). */
  load(): Promise<void>;
  save(): Promise<void>;
  /** Listens to every recorded event (e.g. to forward them to the dashboard). */
  subscribe(listener: (peerId: string, event: ReputationEvent, standing: PeerStanding) => void): () => void;
}

const NEUTRAL = 0.5;
const DAY_MS = 86_400_000;

export function createReputation(options: ReputationOptions): Reputation {
  const clock = options.clock;
  const halfLifeMs = options.halfLifeMs ?? 7 * DAY_MS;
  const weights = { ...DEFAULT_REPUTATION_WEIGHTS, ...options.weights };
  const holdUntilPasses = options.holdUntilPasses ?? 10;
  const trustedScore = options.trustedScore ?? 0.7;
  const distrustedScore = options.distrustedScore ?? 0.3;
  const maxPeers = options.maxPeers ?? 4096;
  const historyPerPeer = options.historyPerPeer ?? 100;
  // Map order is recency order: a touched peer is re-inserted at the end, the first is the stalest.
  const peers = new Map<string, PeerRecord>();
  const listeners = new Set<(peerId: string, event: ReputationEvent, standing: PeerStanding) => void>();

  function decayed(record: PeerRecord, now: number): number {
    const elapsed = Math.max(0, now - record.updatedAt);
    return NEUTRAL + (record.score - NEUTRAL) * 2 ** (-elapsed / halfLifeMs);
  }

  function touch(peerId: string): PeerRecord {
    const now = clock.now();
    let record = peers.get(peerId);
    if (record) {
      peers.delete(peerId);
      record.score = decayed(record, now);
      record.updatedAt = now;
    } else {
      record = { peerId, score: NEUTRAL, updatedAt: now, passes: 0, fails: 0, failures: 0, stalls: 0, completed: 0, history: [] };
      while (peers.size >= maxPeers) peers.delete(peers.keys().next().value!);
    }
    peers.set(peerId, record);
    return record;
  }

  function tierOf(score: number, passes: number): TrustTier {
    if (score < distrustedScore) return "distrusted";
    if (passes < holdUntilPasses) return "new";
    return score >= trustedScore ? "trusted" : "probation";
  }

  function standingOf(peerId: string): PeerStanding {
    const record = peers.get(peerId);
    if (!record) return { score: NEUTRAL, tier: "new", passes: 0, fails: 0, failures: 0, stalls: 0, completed: 0 };
    const score = decayed(record, clock.now());
    return { score, tier: tierOf(score, record.passes), passes: record.passes, fails: record.fails, failures: record.failures, stalls: record.stalls, completed: record.completed };
  }

  function snapshot(): ReputationSnapshot {
    return { version: 1, savedAt: clock.now(), peers: [...peers.values()].map((record) => ({ ...record, history: [...record.history] })) };
  }

  const toward = (record: PeerRecord, target: 0 | 1, weight: number) => {
    record.score += (target - record.score) * weight;
  };

  return {
    score: (peerId) => standingOf(peerId).score,
    tier: (peerId) => standingOf(peerId).tier,
    standing: standingOf,
    holdPolicy(peerId) {
      const { tier } = standingOf(peerId);
      return tier === "trusted" ? "pending" : "held";
    },
    record(peerId, event) {
      const record = touch(peerId);
      switch (event.kind) {
        case "verification":
        case "challenge": {
          const pass = event.verdict === "pass";
          const weight = event.kind === "verification" ? (pass ? weights.verificationPass : weights.verificationFail) : pass ? weights.challengePass : weights.challengeFail;
          toward(record, pass ? 1 : 0, weight);
          if (pass) record.passes++;
          else record.fails++;
          break;
        }
        case "failure":
          toward(record, 0, weights.failure);
          record.failures++;
          break;
        case "stall":
          toward(record, 0, weights.stall);
          record.stalls++;
          break;
        case "completed":
          record.completed++;
          break;
      }
      if (event.kind !== "completed") {
        const verdict = "verdict" in event ? event.verdict : "fail";
        record.history.push({ at: record.updatedAt, kind: event.kind, verdict, detail: (event.detail ?? "").slice(0, 300) });
        if (record.history.length > historyPerPeer) record.history.splice(0, record.history.length - historyPerPeer);
      }
      const standing = standingOf(peerId);
      for (const listener of listeners) listener(peerId, event, standing);
    },
    view(peerId, limit = 500) {
      const standing = standingOf(peerId);
      const history = [...(peers.get(peerId)?.history ?? [])].reverse().slice(0, Math.min(limit, 500));
      return { available: true, score: standing.score, tier: standing.tier, history };
    },
    knownPeers: () => peers.size,
    snapshot,
    async load() {
      if (!options.store) return;
      const stored = await options.store.read();
      if (stored === undefined) return;
      const parsed = reputationSnapshotSchema.safeParse(stored);
      if (!parsed.success) throw new TrustError("TRUST_STORE_CORRUPT", `The reputation snapshot does not match its schema (${parsed.error.issues[0]?.message ?? "invalid"}); delete it to start from neutral scores.`);
      peers.clear();
      // Oldest first, so the most recently touched peers survive the bound.
      for (const record of [...parsed.data.peers].sort((a, b) => a.updatedAt - b.updatedAt).slice(-maxPeers)) {
        peers.set(record.peerId, { ...record, history: record.history.slice(-historyPerPeer) });
      }
    },
    async save() {
      await options.store?.write(snapshot());
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
