import { InferSwarmError } from "../common/index.js";

export type SwarmErrorCode =
  | "SWARM_DIAL_FAILED"
  | "SWARM_STALLED"
  | "SWARM_NO_END"
  | "SWARM_BAD_FRAME"
  | "SWARM_FRAME_TOO_LARGE"
  | "SWARM_BAD_REQUEST"
  | "SWARM_MODEL_NOT_SERVED"
  | "SWARM_WORKER_ERROR"
  | "SWARM_NO_WORKERS"
  | "SWARM_ATTEMPTS_EXHAUSTED"
  | "SWARM_ABORTED"
  // Added with the libp2p node (issue #4): local files, worker shutdown and unexpected worker faults.
  | "SWARM_IDENTITY_INVALID"
  | "SWARM_KEY_INVALID"
  | "SWARM_SHUTTING_DOWN"
  | "SWARM_INTERNAL";

export class SwarmError extends InferSwarmError {
  declare readonly code: SwarmErrorCode;
  /** For SWARM_WORKER_ERROR: the code the worker sent (e.g. ENGINE_BUSY). */
  readonly workerCode: string | undefined;
  /** Whether another worker may well succeed. */
  readonly retryable: boolean;
  /** For SWARM_ATTEMPTS_EXHAUSTED: each attempt's code (the worker's own, e.g. ENGINE_BUSY), in order. */
  readonly attemptCodes: readonly string[];

  constructor(code: SwarmErrorCode, message: string, options: { retryable: boolean; workerCode?: string; attemptCodes?: readonly string[]; cause?: unknown }) {
    super(code, message, { cause: options.cause });
    this.retryable = options.retryable;
    this.workerCode = options.workerCode;
    this.attemptCodes = options.attemptCodes ?? [];
  }
}
