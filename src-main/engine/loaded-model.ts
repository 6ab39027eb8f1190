import type { LlamaContext, LlamaModel } from "node-llama-cpp";
import { asToken, asTokens } from "./llama-tokens.js";
import type { Logger } from "../common/index.js";
import { abortError, EngineError } from "./engine-errors.js";
import { streamGeneration, type GenerationResult, type GenerationStream, type SamplingOptions } from "./generation.js";
import type { JobSlotStats } from "./job-slots.js";
import { createSequencePool, pooledGenerationStream } from "./sequence-pool.js";
import type { LoadModeReport } from "./load-mode.js";
import type { ModelInfo } from "./model-info.js";
import { scoreClaimedTokens, type ScoreRequest, type ScoreResult } from "./teacher-forced-scoring.js";
import type { ThreadCalibration } from "./thread-calibration.js";

export interface GenerateRequest {
  /** Text (tokenized with BOS, like `tokenizePrompt`) or tokens exactly as the model should see them. */
  prompt: string | { tokens: readonly number[] };
  /** Continue an answer from tokens already produced (failover): the result continues after them. */
  resumeTokens?: readonly number[];
  /** Total answer length limit, resumed tokens included. */
  maxTokens: number;
  /** The answer ends right before the first of these strings. */
  stop?: readonly string[];
  sampling?: SamplingOptions;
  signal?: AbortSignal;
}

export interface LoadedModel {
  readonly info: ModelInfo;
  readonly loadMode: LoadModeReport;
  /** Threads every context of this model uses, chosen by measurement unless given explicitly. */
  readonly threads: number;
  readonly calibration: ThreadCalibration | undefined;
  /** Tokens per sequence: prompt + answer must fit. */
  readonly contextSize: number;
  /** The end-of-sequence token, for validators that score an answer's end (undefined if the model has none). */
  readonly eosToken: number | undefined;
  /** Whether generation ends on this token (EOS, EOT…): such a token ends an answer with finish "eos". */
  isEndOfGenerationToken(token: number): boolean;
  /** Prompt text as generation sees it: BOS, then the text without an added leading space. */
  tokenizePrompt(text: string): number[];
  tokenize(text: string): number[];
  detokenize(tokens: readonly number[]): string;
  generate(request: GenerateRequest): GenerationStream;
  /** Runs a generation to its end and returns the result. */
  generateText(request: GenerateRequest): Promise<GenerationResult>;
  score(request: ScoreRequest): Promise<ScoreResult>;
  stats(): JobSlotStats;
  /** The policy's admission control: whether new jobs are taken, and how many may run at once. */
  setAdmission(admission: { accepting: boolean; maxActiveJobs: number; reason?: string }): void;
  /** Stops every running job with ENGINE_PREEMPTED (e.g. a game started); their requesters fail over. */
  abortRunning(reason: string): void;
  close(): Promise<void>;
}

export interface LoadedModelParts {
  model: LlamaModel;
  context: LlamaContext;
  info: ModelInfo;
  loadMode: LoadModeReport;
  threads: number;
  calibration: ThreadCalibration | undefined;
  maxQueuedJobs: number;
  logger: Logger;
  onClose: () => void;
}

export function createLoadedModel(parts: LoadedModelParts): LoadedModel {
  const { model, context, info, logger } = parts;
  const pool = createSequencePool(context, { modelName: info.name, maxQueuedJobs: parts.maxQueuedJobs });
  const contextSize = context.contextSize;
  let closed = false;

  const tokenizePrompt = (text: string) => {
    const tokens = model.tokenize(text, false, "trimLeadingSpace");
    if (model.tokens.bos !== null && model.tokens.shouldPrependBosToken) tokens.unshift(model.tokens.bos);
    return tokens;
  };

  function checkTokens(tokens: readonly number[], what: string) {
    const vocabulary = info.vocabularySize;
    const bad = tokens.find((t) => !Number.isInteger(t) || t < 0 || t >= vocabulary);
    if (bad !== undefined) throw new EngineError("ENGINE_BAD_REQUEST", `${what} holds token ${bad}, outside this model's vocabulary of ${vocabulary}.`);
  }

  function checkFits(tokenCount: number, what: string) {
    if (tokenCount >= contextSize) {
      throw new EngineError(
        "ENGINE_PROMPT_TOO_LONG",
        `${what} is ${tokenCount} tokens but this model's context holds ${contextSize}; shorten it or load the model with a larger context.`,
      );
    }
  }

  function generate(request: GenerateRequest): GenerationStream {
    const promptTokens = typeof request.prompt === "string" ? tokenizePrompt(request.prompt) : [...request.prompt.tokens];
    const resumeTokens = [...(request.resumeTokens ?? [])];
    if (promptTokens.length === 0) throw new EngineError("ENGINE_BAD_REQUEST", "The prompt is empty; give at least one token.");
    if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) {
      throw new EngineError("ENGINE_BAD_REQUEST", `maxTokens must be a positive integer, got ${request.maxTokens}.`);
    }
    checkTokens(promptTokens, "The prompt");
    checkTokens(resumeTokens, "resumeTokens");
    checkFits(promptTokens.length + resumeTokens.length, "The prompt (with resumed tokens)");

    // `result` settles once the stream is iterated: the job slot is taken on the first read, not before.
    return pooledGenerationStream(pool, request.signal, (job) => {
      logger.debug({ promptTokens: promptTokens.length, resumeTokens: resumeTokens.length, maxTokens: request.maxTokens }, "generate");
      return streamGeneration(
        model,
        job.sequence,
        { promptTokens, resumeTokens, maxTokens: request.maxTokens, stop: request.stop ?? [], sampling: request.sampling ?? {}, signal: job.signal },
        job.done,
      );
    });
  }

  return {
    info,
    loadMode: parts.loadMode,
    threads: parts.threads,
    calibration: parts.calibration,
    contextSize,
    eosToken: model.tokens.eos ?? undefined,
    isEndOfGenerationToken: (token) => Number.isInteger(token) && token >= 0 && token < info.vocabularySize && model.isEogToken(asToken(token)),
    tokenizePrompt,
    tokenize: (text) => model.tokenize(text, false),
    detokenize: (tokens) => model.detokenize(asTokens(tokens), false),
    generate,
    async generateText(request) {
      const stream = generate(request);
      for await (const _token of stream) {
        // drained; the result carries the text
      }
      return stream.result;
    },
    async score(request) {
      if (request.promptTokens.length === 0) throw new EngineError("ENGINE_BAD_REQUEST", "Scoring needs at least one prompt token (BOS).");
      checkTokens(request.promptTokens, "The prompt");
      checkTokens(request.claimedTokens, "The claimed answer");
      checkFits(request.promptTokens.length + request.claimedTokens.length, "The prompt plus the claimed answer");
      const { sequence, signal, done } = await pool.take(request.signal);
      try {
        await sequence.clearHistory();
        if (signal.aborted) throw abortError(signal);
        return await scoreClaimedTokens(sequence, request);
      } finally {
        done();
      }
    },
    stats: () => pool.stats(),
    setAdmission: (admission) => pool.setAdmission(admission),
    abortRunning: (reason) => pool.abortRunning(reason),
    async close() {
      if (closed) return;
      closed = true;
      pool.close();
      await context.dispose();
      await model.dispose();
      parts.onClose();
    },
  };
}
