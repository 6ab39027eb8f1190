export { InferSwarmError, isInferSwarmError } from "./errors.js";
export { createLogger, createSilentLogger, type Logger } from "./logger.js";
