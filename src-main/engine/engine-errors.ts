import { InferSwarmError } from "../common/index.js";

/** Stable codes; the swarm's job protocol carries the same strings over the wire. */
export type EngineErrorCode =
  | "ENGINE_MODEL_LOAD_FAILED"
  | "ENGINE_BUSY"
  | "ENGINE_ABORTED"
  | "ENGINE_PROMPT_TOO_LONG"
  | "ENGINE_BAD_REQUEST"
  | "ENGINE_CLOSED";

export class EngineError extends InferSwarmError {
  declare readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function abortError(signal: AbortSignal): EngineError {
  return new EngineError("ENGINE_ABORTED", "The job was aborted by its caller.", { cause: signal.reason });
}
