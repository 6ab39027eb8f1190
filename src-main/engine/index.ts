// The engine module's only door: node-llama-cpp wrapped for the rest of the core.
export { createEngine, type Engine, type EngineOptions, type EngineDescription, type LoadModelOptions, type LlamaGpuState } from "./engine.js";
export type { FitPlan, FitRequest } from "./fit-planner.js";
export type { LoadedModel, GenerateRequest } from "./loaded-model.js";
export type { GenerationStream, GenerationResult, FinishReason, SamplingOptions } from "./generation.js";
export type { GeneratedToken } from "./answer-text-assembler.js";
export { DEFAULT_SCORE_TOP_K, type ScoreRequest, type ScoreResult, type PositionScore } from "./teacher-forced-scoring.js";
export type { LoadModeReport, WeightsResidence } from "./load-mode.js";
export type { ThreadCalibration, ThreadMeasurement } from "./thread-calibration.js";
export type { ModelInfo } from "./model-info.js";
export type { JobSlotStats } from "./job-slots.js";
export { EngineError, type EngineErrorCode } from "./engine-errors.js";
export { loadModelTokenizer, type ModelTokenizer, type ChatMessage, type RenderedChat, type LoadModelTokenizerOptions } from "./model-tokenizer.js";
export { describeModelFile } from "./model-info.js";
export { loadSpeculativeModel, type SpeculativeModel, type SpeculativeModelOptions, type SpeculativeGenerateOptions, type DraftSessionRequest } from "./speculative-model.js";
export type { DraftProposer, DraftProposal, SpeculationStats, SpeculativeGenerationStream } from "./speculative-decoding.js";
export type { DraftSession } from "./speculative-draft-session.js";
export { createDraftLengthController, expectedTokensPerRound, DEFAULT_DRAFT_LENGTH, type DraftLengthController, type DraftLengthOptions, type DraftLengthState, type SpeculationRound } from "./speculative-draft-length.js";
