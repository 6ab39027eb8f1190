import { InferSwarmError } from "../common/index.js";

export type ModelFileErrorCode =
  | "MODEL_NOT_FOUND"
  | "MODEL_NOT_GGUF"
  | "MODEL_UNSUPPORTED_VERSION"
  | "MODEL_UNSUPPORTED_TENSOR_TYPE"
  | "MODEL_TRUNCATED"
  | "MODEL_CORRUPT";

/** A model file that must not be handed to llama.cpp (which may abort the process on a bad file). */
export class ModelFileError extends InferSwarmError {
  declare readonly code: ModelFileErrorCode;
  readonly path: string;

  constructor(code: ModelFileErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.path = path;
  }
}
