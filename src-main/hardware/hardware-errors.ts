import { InferSwarmError } from "../common/index.js";

/** Stable codes for what the hardware module can fail at. */
export type HardwareErrorCode =
  | "HARDWARE_COMMAND_NOT_FOUND"
  | "HARDWARE_COMMAND_TIMEOUT"
  | "HARDWARE_COMMAND_OUTPUT_TOO_LARGE"
  | "HARDWARE_COMMAND_ABORTED"
  | "HARDWARE_COMMAND_FAILED"
  | "HARDWARE_STORE_CORRUPT"
  | "HARDWARE_CALIBRATION_FAILED"
  | "HARDWARE_FIXTURE_UNKNOWN";

export class HardwareError extends InferSwarmError {
  declare readonly code: HardwareErrorCode;

  constructor(code: HardwareErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
