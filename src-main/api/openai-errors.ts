import { InferSwarmError } from "../common/index.js";
import { SwarmError } from "../swarm/index.js";
import type { ErrorBody } from "./openai-schemas.js";

/** Each gateway error: its HTTP status and how OpenAI's body names it (`type`, `code`). */
const API_ERRORS = {
  API_BAD_REQUEST: { status: 400, type: "invalid_request_error", code: "invalid_request" },
  API_UNSUPPORTED_PARAMETER: { status: 400, type: "invalid_request_error", code: "unsupported_parameter" },
  API_UNAUTHORIZED: { status: 401, type: "invalid_request_error", code: "invalid_api_key" },
  API_NOT_FOUND: { status: 404, type: "invalid_request_error", code: "not_found" },
  API_MODEL_NOT_FOUND: { status: 404, type: "invalid_request_error", code: "model_not_found" },
  API_MODEL_NOT_HELD: { status: 404, type: "invalid_request_error", code: "model_not_held_locally" },
  API_REQUEST_TOO_LARGE: { status: 413, type: "invalid_request_error", code: "request_too_large" },
  API_CONTEXT_LENGTH_EXCEEDED: { status: 413, type: "invalid_request_error", code: "context_length_exceeded" },
  API_BAD_HOST: { status: 421, type: "invalid_request_error", code: "bad_host" },
  API_CONCURRENCY_LIMIT: { status: 429, type: "rate_limit_error", code: "concurrency_limit_exceeded" },
  API_SWARM_SATURATED: { status: 429, type: "rate_limit_error", code: "swarm_saturated" },
  API_GATEWAY_SATURATED: { status: 429, type: "rate_limit_error", code: "gateway_saturated" },
  API_WORKER_ERROR: { status: 502, type: "server_error", code: "worker_error" },
  API_NO_WORKER: { status: 503, type: "server_error", code: "no_worker_available" },
  API_INTERNAL: { status: 500, type: "server_error", code: "internal_error" },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** An error the gateway answers with: a stable code, OpenAI's status and body, and Retry-After for 429s. */
export class OpenAiHttpError extends InferSwarmError {
  declare readonly code: ApiErrorCode;
  readonly status: number;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ApiErrorCode, message: string, options: { param?: string; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.status = API_ERRORS[code].status;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  body(): ErrorBody {
    const { type, code } = API_ERRORS[this.code];
    return { error: { message: this.message, type, param: this.param, code } };
  }
}

/** Worker codes that mean "full" or "not now" rather than "broken": the swarm is saturated. */
const SATURATION_CODES: ReadonlySet<string> = new Set(["ENGINE_BUSY", "ENGINE_PAUSED"]);

export interface FailureContext {
  modelId: string;
  /** Seconds until a worker of the model may take jobs again, when some worker serves it but none can now. */
  saturatedRetryAfter(): number | undefined;
}

/**
 * Maps a job's failure onto the gateway's errors: nothing serving the model → 503; everything that serves
 * it busy, paused or backed off after being busy → 429 with Retry-After; a request the workers refuse →
 * 400/413; a worker's other refusals → 502.
 */
export function apiErrorForJobFailure(error: unknown, context: FailureContext): OpenAiHttpError {
  if (error instanceof OpenAiHttpError) return error;
  if (!(error instanceof SwarmError)) {
    return new OpenAiHttpError("API_INTERNAL", `The gateway failed while running the job: ${(error as Error)?.message ?? String(error)}.`, { cause: error });
  }
  const saturated = (why: string) =>
    new OpenAiHttpError("API_SWARM_SATURATED", `The swarm is saturated for ${context.modelId}: ${why}. Retry after the Retry-After delay.`, {
      retryAfterSeconds: context.saturatedRetryAfter() ?? 1,
      cause: error,
    });
  switch (error.code) {
    case "SWARM_NO_WORKERS": {
      if (context.saturatedRetryAfter() !== undefined) return saturated("every worker that serves it is busy, paused or backing off");
      return new OpenAiHttpError("API_NO_WORKER", `No worker serves ${context.modelId} right now. Retry later, or run a node that serves this model.`, { cause: error });
    }
    case "SWARM_ATTEMPTS_EXHAUSTED": {
      const codes = error.attemptCodes;
      if (codes.length > 0 && codes.every((code) => SATURATION_CODES.has(code))) return saturated(`${codes.length} worker(s) refused the job as busy or paused`);
      return new OpenAiHttpError("API_NO_WORKER", `No worker could run the job for ${context.modelId}: ${error.message}`, { cause: error });
    }
    case "SWARM_BAD_REQUEST":
      return new OpenAiHttpError("API_BAD_REQUEST", error.message, { cause: error });
    case "SWARM_WORKER_ERROR":
      if (error.workerCode === "ENGINE_PROMPT_TOO_LONG") return new OpenAiHttpError("API_CONTEXT_LENGTH_EXCEEDED", error.message, { cause: error });
      if (error.workerCode === "ENGINE_BAD_REQUEST" || error.workerCode === "SWARM_BAD_REQUEST") return new OpenAiHttpError("API_BAD_REQUEST", error.message, { cause: error });
      return new OpenAiHttpError("API_WORKER_ERROR", error.message, { cause: error });
    default:
      return new OpenAiHttpError("API_WORKER_ERROR", error.message, { cause: error });
  }
}

/** Errors fastify raises itself (body parsing, size), in OpenAI's shape. */
export function apiErrorForFrameworkError(error: { statusCode?: number; code?: string; message: string }): OpenAiHttpError {
  if (error.statusCode === 413) return new OpenAiHttpError("API_REQUEST_TOO_LARGE", `The request body is too large: ${error.message}. Shorten the prompt.`, { cause: error });
  if (error.statusCode === 415) return new OpenAiHttpError("API_BAD_REQUEST", "Send the body as JSON (Content-Type: application/json).", { cause: error });
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new OpenAiHttpError("API_BAD_REQUEST", `The request could not be read: ${error.message}.`, { cause: error });
  }
  return new OpenAiHttpError("API_INTERNAL", `The gateway failed: ${error.message}.`, { cause: error });
}
