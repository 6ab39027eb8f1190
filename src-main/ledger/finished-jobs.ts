import { systemClock, type Clock } from "../common/index.js";
import { hashTokens } from "./receipt.js";

/** What a worker remembers of a job it finished, to check the requester's receipt against. */
export interface FinishedJobRecord {
  jobId: string;
  requesterPeerId: string;
  modelSha256: string;
  /** hashTokens(prompt ids + resumed ids given), hashTokens(ids generated). */
  promptSha256: string;
  outputSha256: string;
  promptTokens: number;
  outputTokens: number;
  /** The price this worker charged for the job, when it knows it (then the receipt must carry it). */
  pricePer1kTokensMicro?: number;
  /** Epoch ms. */
  finishedAt: number;
}

export interface FinishedJobInput {
  jobId: string;
  requesterPeerId: string;
  modelSha256: string;
  promptTokenIds: readonly number[];
  resumeTokenIds: readonly number[];
  generatedTokenIds: readonly number[];
  pricePer1kTokensMicro?: number;
}

export interface FinishedJobRegistry {
  record(job: FinishedJobInput): FinishedJobRecord;
  /** The job `jobId` this node finished for `requesterPeerId`, if still remembered. */
  lookup(jobId: string, requesterPeerId: string): FinishedJobRecord | undefined;
  /** Forget a job once its receipt is stored (the ledger refuses a second one anyway). */
  forget(jobId: string, requesterPeerId: string): void;
  size(): number;
}

export const FINISHED_JOB_LIMITS = {
  maxJobs: 10_000,
  /** A receipt that comes later than this is refused as for an unknown job. */
  ttlMs: 10 * 60_000,
} as const;

/**
 * Bounded (oldest dropped first) and expiring: a requester that never sends a receipt costs a worker at
 * most `maxJobs` small records for `ttlMs`. Only hashes and counts are kept, never token ids.
 */
export function createFinishedJobRegistry(options: { maxJobs?: number; ttlMs?: number; clock?: Clock } = {}): FinishedJobRegistry {
  const maxJobs = options.maxJobs ?? FINISHED_JOB_LIMITS.maxJobs;
  const ttlMs = options.ttlMs ?? FINISHED_JOB_LIMITS.ttlMs;
  const clock = options.clock ?? systemClock;
  // Insertion order is finishing order, so the oldest is always first.
  const jobs = new Map<string, FinishedJobRecord>();
  const keyOf = (jobId: string, requesterPeerId: string) => `${jobId}\n${requesterPeerId}`;

  const prune = (now: number) => {
    for (const [key, job] of jobs) {
      if (job.finishedAt + ttlMs > now && jobs.size <= maxJobs) break;
      jobs.delete(key);
    }
  };

  return {
    record(job) {
      const now = clock.now();
      const record: FinishedJobRecord = {
        jobId: job.jobId,
        requesterPeerId: job.requesterPeerId,
        modelSha256: job.modelSha256,
        promptSha256: hashTokens([...job.promptTokenIds, ...job.resumeTokenIds]),
        outputSha256: hashTokens(job.generatedTokenIds),
        promptTokens: job.promptTokenIds.length + job.resumeTokenIds.length,
        outputTokens: job.generatedTokenIds.length,
        ...(job.pricePer1kTokensMicro !== undefined && { pricePer1kTokensMicro: job.pricePer1kTokensMicro }),
        finishedAt: now,
      };
      const key = keyOf(job.jobId, job.requesterPeerId);
      jobs.delete(key);
      jobs.set(key, record);
      prune(now);
      return record;
    },
    lookup(jobId, requesterPeerId) {
      const now = clock.now();
      prune(now);
      return jobs.get(keyOf(jobId, requesterPeerId));
    },
    forget(jobId, requesterPeerId) {
      jobs.delete(keyOf(jobId, requesterPeerId));
    },
    size: () => jobs.size,
  };
}
