import { InferSwarmError } from "../common/index.js";

/** Stable codes; the swarm's job protocol carries the same strings over the wire. */
export type EngineErrorCode =
  | "ENGINE_MODEL_LOAD_FAILED"
  | "ENGINE_BUSY"
  | "ENGINE_PAUSED"
  | "ENGINE_PREEMPTED"
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

/** The error a job ends with when its signal fires: preemption by the node keeps its own code. */
export function abortError(signal: AbortSignal): EngineError {
  if (signal.reason instanceof EngineError) return signal.reason;
  return new EngineError("ENGINE_ABORTED", "The job was aborted by its caller.", { cause: signal.reason });
}
