import { describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { createScheduler, type JobTransport } from "../scheduler/index.js";
import { SwarmError, type WorkerFrame } from "../swarm/index.js";
import { apiErrorForFrameworkError, apiErrorForJobFailure } from "./openai-errors.js";

/** The real scheduler over a transport whose workers all answer with one error frame. */
async function failureFromRealScheduler(workerCodes: Record<string, string>): Promise<unknown> {
  const transport: JobTransport = {
    async *openJob(peerId): AsyncIterable<WorkerFrame> {
      yield { type: "error", code: workerCodes[peerId]!, message: "refused", retryable: true };
    },
  };
  const scheduler = createScheduler({
    transport,
    candidates: { candidates: async () => Object.keys(workerCodes).map((peerId) => ({ peerId })) },
    latency: { latencyMs: async () => 1 },
    reputation: { score: () => 0.5 },
    logger: createSilentLogger(),
  });
  const run = scheduler.runJob({ type: "request", jobId: "job-errors-1", modelSha256: "e".repeat(64), prompt: { tokens: [1, 2] }, sampling: { temperature: 0 }, maxTokens: 4, stop: [] });
  return run.result.then(
    () => {
      throw new Error("expected the job to fail");
    },
    (error: unknown) => error,
  );
}

const context = (retryAfter: number | undefined) => ({ modelId: "tiny", saturatedRetryAfter: () => retryAfter });

describe("apiErrorForJobFailure", () => {
  it("reads each attempt's worker code from the real scheduler's exhausted-attempts error: all busy or paused is 429", async () => {
    const error = await failureFromRealScheduler({ "peer-a": "ENGINE_BUSY", "peer-b": "ENGINE_PAUSED" });
    expect(error).toBeInstanceOf(SwarmError);
    expect((error as SwarmError).code).toBe("SWARM_ATTEMPTS_EXHAUSTED");
    expect([...(error as SwarmError).attemptCodes].sort()).toEqual(["ENGINE_BUSY", "ENGINE_PAUSED"]);
    const mapped = apiErrorForJobFailure(error, context(2));
    expect(mapped).toMatchObject({ status: 429, code: "API_SWARM_SATURATED", retryAfterSeconds: 2 });
    expect(mapped.body().error).toMatchObject({ type: "rate_limit_error", code: "swarm_saturated" });
  });

  it("is 503 when some attempt failed for another reason", async () => {
    const error = await failureFromRealScheduler({ "peer-a": "ENGINE_BUSY", "peer-b": "ENGINE_PREEMPTED" });
    expect(apiErrorForJobFailure(error, context(2))).toMatchObject({ status: 503, code: "API_NO_WORKER" });
  });

  it("maps no workers to 503 unless some advertised worker is only busy or backing off (429, at least 1 s)", () => {
    const none = new SwarmError("SWARM_NO_WORKERS", "none", { retryable: true });
    expect(apiErrorForJobFailure(none, context(undefined))).toMatchObject({ status: 503 });
    expect(apiErrorForJobFailure(none, context(7))).toMatchObject({ status: 429, retryAfterSeconds: 7 });
  });

  it("maps refusals of the request itself to 400 and 413, other worker errors to 502, anything else to 500", () => {
    const worker = (workerCode: string) => new SwarmError("SWARM_WORKER_ERROR", workerCode, { retryable: false, workerCode });
    expect(apiErrorForJobFailure(worker("ENGINE_PROMPT_TOO_LONG"), context(undefined)).status).toBe(413);
    expect(apiErrorForJobFailure(worker("ENGINE_BAD_REQUEST"), context(undefined)).status).toBe(400);
    expect(apiErrorForJobFailure(new SwarmError("SWARM_BAD_REQUEST", "bad", { retryable: false }), context(undefined)).status).toBe(400);
    expect(apiErrorForJobFailure(worker("SWARM_MODEL_NOT_SERVED"), context(undefined)).status).toBe(502);
    expect(apiErrorForJobFailure(new Error("bug"), context(undefined))).toMatchObject({ status: 500, code: "API_INTERNAL" });
  });
});

describe("apiErrorForFrameworkError", () => {
  it("keeps fastify's 413 and turns its other client errors into 400", () => {
    expect(apiErrorForFrameworkError({ statusCode: 413, message: "Request body is too large" }).status).toBe(413);
    expect(apiErrorForFrameworkError({ statusCode: 415, message: "Unsupported Media Type" }).status).toBe(400);
    expect(apiErrorForFrameworkError({ statusCode: 400, message: "Unexpected token" }).status).toBe(400);
    expect(apiErrorForFrameworkError({ message: "boom" }).status).toBe(500);
  });
});
