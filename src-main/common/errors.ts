/**
 * Errors that cross a module (or, later, a network) boundary carry a stable `code` so callers and peers
 * can branch on it; the message says what was wrong and what to do about it.
 */
export class InferSwarmError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export function isInferSwarmError(value: unknown, code?: string): value is InferSwarmError {
  return value instanceof InferSwarmError && (code === undefined || value.code === code);
}
