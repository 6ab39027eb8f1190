import { InferSwarmError } from "../common/index.js";

/** Stable codes of the draft protocol; the draft node sends the same strings in its error frames. */
export type DraftErrorCode =
  | "DRAFT_UNREACHABLE"
  | "DRAFT_MODEL_NOT_SERVED"
  | "DRAFT_BUSY"
  | "DRAFT_OUT_OF_STEP"
  | "DRAFT_LATE"
  | "DRAFT_FAILED"
  | "DRAFT_BAD_REQUEST";

/** A draft that fails costs speed only: the verifier decodes plainly, so every draft error is recoverable. */
export class DraftError extends InferSwarmError {
  declare readonly code: DraftErrorCode;

  constructor(code: DraftErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
