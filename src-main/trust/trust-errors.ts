import { InferSwarmError } from "../common/index.js";

export type TrustErrorCode =
  /** No validator other than the worker serves the model: the job stays unverified. */
  | "TRUST_NO_VALIDATORS"
  /** A validator's answer does not hold together (scores for other tokens, a verdict its own scores contradict). */
  | "TRUST_INCONSISTENT_ATTESTATION"
  /** The answer cannot be scored here (too long for the verify protocol, a model this node does not serve). */
  | "TRUST_CANNOT_SCORE"
  | "TRUST_STORE_CORRUPT";

export class TrustError extends InferSwarmError {
  declare readonly code: TrustErrorCode;

  constructor(code: TrustErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
