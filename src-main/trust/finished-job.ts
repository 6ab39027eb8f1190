import type { JobRunResult, SchedulerJobRequest } from "../scheduler/index.js";
import type { FinishedJob } from "./validation-coordinator.js";

/**
 * The coordinator's view of a job the scheduler finished: the answer, its finish, and who produced which
 * part (attempts that delivered tokens, in answer order), so a failing part is blamed on its worker.
 */
export function finishedJobFromRun(request: SchedulerJobRequest, result: JobRunResult, speeds: { observedTokensPerSecond?: number; advertisedTokensPerSecond?: number } = {}): FinishedJob {
  const contributors = result.attempts
    .filter((attempt) => attempt.tokensReceived > 0)
    .sort((a, b) => a.firstIndex - b.firstIndex)
    .map((attempt) => ({ peerId: attempt.peerId, tokens: attempt.tokensReceived }));
  return {
    jobId: request.jobId,
    modelSha256: request.modelSha256,
    promptTokens: [...request.prompt.tokens],
    tokens: [...result.tokens],
    finishReason: result.finishReason,
    maxTokens: request.maxTokens,
    sampling: { temperature: request.sampling.temperature, topK: request.sampling.topK, topP: request.sampling.topP, seed: request.sampling.seed },
    stopRequested: request.stop.length > 0,
    workerPeerId: result.workerPeerId,
    ...(contributors.length > 0 && { contributors }),
    ...speeds,
  };
}
