export { InferSwarmError, isInferSwarmError } from "./errors.js";
export { createLogger, createSilentLogger, type Logger } from "./logger.js";
export { systemClock, systemTimers, backgroundTimers, systemRandom, type Clock, type Timers, type TimerHandle, type RandomSource } from "./clock.js";
export { createFakeTime, settle, type FakeTime } from "./fake-time.js";
export { canonicalJson } from "./canonical-json.js";
export { signCanonical, verifyCanonical, publicKeyOfPeer, peerIdOfKey } from "./peer-signatures.js";
export { hashTokens } from "./token-hash.js";
export { LOG_LEVELS, LOG_FORMATS, PROMPT_FIELDS, redactPromptFields, type LogLevel, type LogFormat, type LoggerOptions, type LogDestination } from "./logger.js";
