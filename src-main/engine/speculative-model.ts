import type { LlamaModel } from "node-llama-cpp";
import { createSilentLogger, type Logger } from "../common/index.js";
import { EngineError } from "./engine-errors.js";
import { streamGeneration } from "./generation.js";
import type { JobSlotStats } from "./job-slots.js";
import { createSequencePool, pooledGenerationStream } from "./sequence-pool.js";
import { getLlamaRuntime } from "./llama-runtime.js";
import { asToken, asTokens } from "./llama-tokens.js";
import type { GenerateRequest } from "./loaded-model.js";
import { describeModelFile, type ModelInfo } from "./model-info.js";
import { streamSpeculativeGeneration, type DraftProposer, type SpeculationStats, type SpeculativeGenerationStream } from "./speculative-decoding.js";
import { createDraftLengthController, DEFAULT_DRAFT_LENGTH, type DraftLengthOptions } from "./speculative-draft-length.js";
import { createDraftSession, type DraftSession } from "./speculative-draft-session.js";
import { measureVerifyCostRatios } from "./speculative-verify-costs.js";

export interface SpeculativeModelOptions {
  /** Always explicit: the library default oversubscribes small CPUs (see the engine's thread calibration). */
  threads: number;
  /** Tokens per sequence; defaults to min(trained context, 2048). */
  contextSize?: number;
  /** Sequences: jobs (verifier role) or draft sessions (draft role) at once. */
  sequences?: number;
  maxQueued?: number;
  gpu?: "auto" | false;
  logger?: Logger;
}

export interface SpeculativeGenerateOptions {
  /** The paired draft; absent means plain decoding through the same loop. */
  draft?: DraftProposer;
  draftLength?: DraftLengthOptions;
}

export interface DraftSessionRequest {
  runAhead?: number;
  signal?: AbortSignal;
}

/**
 * A model loaded for speculative decoding, in either role: the verifier generates with a draft; the draft
 * role opens sessions that propose tokens. It has its own context (the weights are mmapped, so a second
 * load of a file the engine already serves shares its pages).
 */
export interface SpeculativeModel {
  readonly info: ModelInfo;
  readonly contextSize: number;
  readonly threads: number;
  tokenizePrompt(text: string): number[];
  detokenize(tokens: readonly number[]): string;
  isEndOfGenerationToken(token: number): boolean;
  /**
   * Greedy requests are decoded speculatively when a draft is given; sampled ones (temperature > 0) take
   * the plain path (speculative sampling is not implemented).
   */
  generate(request: GenerateRequest, options?: SpeculativeGenerateOptions): SpeculativeGenerationStream;
  openDraftSession(request?: DraftSessionRequest): Promise<DraftSession>;
  stats(): JobSlotStats;
  /** The policy's admission control, as on the engine's LoadedModel. */
  setAdmission(admission: { accepting: boolean; maxActiveJobs: number; reason?: string }): void;
  /** Ends running jobs and draft sessions with ENGINE_PREEMPTED. */
  abortRunning(reason: string): void;
  close(): Promise<void>;
}

const NO_SPECULATION: SpeculationStats = {
  rounds: 0,
  draftedTokens: 0,
  acceptedTokens: 0,
  plainSteps: 0,
  acceptanceRate: 0,
  meanDraftLength: 0,
  draftFailures: 0,
  draftDroppedReason: undefined,
  draftWaitMs: 0,
  draftComputeMs: 0,
  verifyMs: 0,
  draftLength: { acceptance: 0, plainMs: undefined, verifyScale: 1, transportMs: 0, draftMsPerToken: 0, lastChosen: 0 },
};

export async function loadSpeculativeModel(path: string, options: SpeculativeModelOptions): Promise<SpeculativeModel> {
  if (!Number.isInteger(options.threads) || options.threads < 1) throw new EngineError("ENGINE_BAD_REQUEST", `threads must be a positive integer, got ${options.threads}.`);
  const logger = (options.logger ?? createSilentLogger()).child({ component: "speculative" });
  const info = await describeModelFile(path);
  const runtime = await getLlamaRuntime({ gpu: options.gpu ?? "auto", logger });
  let model: LlamaModel;
  try {
    model = await runtime.llama.loadModel({ modelPath: path, gpuLayers: runtime.gpu === false ? 0 : "auto" });
  } catch (error) {
    throw new EngineError("ENGINE_MODEL_LOAD_FAILED", `llama.cpp could not load ${path}: ${(error as Error).message}`, { cause: error });
  }
  const context = await model.createContext({
    contextSize: options.contextSize ?? Math.min(info.contextLength, 2048),
    sequences: options.sequences ?? 1,
    threads: options.threads,
    flashAttention: false, // as the engine: every node computes the same numerics
  });
  const pool = createSequencePool(context, { modelName: info.name, maxQueuedJobs: options.maxQueued ?? 16 });
  let closed = false;
  // Measured on the first job that speculates (~1 s on the medium preset), then kept for the model's life.
  let verifyCostRatios: Promise<number[]> | undefined;

  const tokenizePrompt = (text: string) => {
    const tokens = model.tokenize(text, false, "trimLeadingSpace");
    if (model.tokens.bos !== null && model.tokens.shouldPrependBosToken) tokens.unshift(model.tokens.bos);
    return tokens as number[];
  };

  function checkRequest(request: GenerateRequest): { promptTokens: number[]; resumeTokens: number[] } {
    const promptTokens = typeof request.prompt === "string" ? tokenizePrompt(request.prompt) : [...request.prompt.tokens];
    const resumeTokens = [...(request.resumeTokens ?? [])];
    if (promptTokens.length === 0) throw new EngineError("ENGINE_BAD_REQUEST", "The prompt is empty; give at least one token.");
    if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) throw new EngineError("ENGINE_BAD_REQUEST", `maxTokens must be a positive integer, got ${request.maxTokens}.`);
    const bad = [...promptTokens, ...resumeTokens].find((t) => !Number.isInteger(t) || t < 0 || t >= info.vocabularySize);
    if (bad !== undefined) throw new EngineError("ENGINE_BAD_REQUEST", `The request holds token ${bad}, outside this model's vocabulary of ${info.vocabularySize}.`);
    if (promptTokens.length + resumeTokens.length >= context.contextSize) {
      throw new EngineError("ENGINE_PROMPT_TOO_LONG", `The prompt is ${promptTokens.length + resumeTokens.length} tokens but this model's context holds ${context.contextSize}; shorten it.`);
    }
    return { promptTokens, resumeTokens };
  }

  function generate(request: GenerateRequest, generateOptions: SpeculativeGenerateOptions = {}): SpeculativeGenerationStream {
    const { promptTokens, resumeTokens } = checkRequest(request);
    const sampling = request.sampling ?? {};
    const basePlan = { promptTokens, resumeTokens, maxTokens: request.maxTokens, stop: request.stop ?? [], sampling };
    const stream = pooledGenerationStream(pool, request.signal, async (job): Promise<SpeculativeGenerationStream> => {
      const plan = { ...basePlan, signal: job.signal };
      if ((sampling.temperature ?? 0) > 0) {
        const plain = streamGeneration(model, job.sequence, plan, job.done);
        return { ...plain, result: plain.result, stats: () => NO_SPECULATION, [Symbol.asyncIterator]: () => plain[Symbol.asyncIterator]() };
      }
      const draftLength = { ...generateOptions.draftLength };
      if (generateOptions.draft && draftLength.fixedDraftTokens === undefined && draftLength.verifyCostRatios === undefined) {
        const maxBatch = (draftLength.maxDraftTokens ?? DEFAULT_DRAFT_LENGTH.maxDraftTokens) + 1;
        verifyCostRatios ??= measureVerifyCostRatios(job.sequence, { maxBatch, vocabularySize: info.vocabularySize });
        try {
          draftLength.verifyCostRatios = await verifyCostRatios;
          logger.debug({ verifyCostRatios: draftLength.verifyCostRatios }, "verify costs measured");
        } catch (error) {
          // Measured again by the next job; this one fails (the pool takes its sequence back).
          verifyCostRatios = undefined;
          throw error;
        }
      }
      const controller = createDraftLengthController(draftLength);
      return streamSpeculativeGeneration(model, job.sequence, plan, { draft: generateOptions.draft, controller, vocabularySize: info.vocabularySize, logger }, job.done);
    });
    return { result: stream.result, stats: () => stream.inner()?.stats() ?? NO_SPECULATION, [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator]() };
  }

  return {
    info,
    contextSize: context.contextSize,
    threads: options.threads,
    tokenizePrompt,
    detokenize: (tokens) => model.detokenize(asTokens(tokens), false),
    isEndOfGenerationToken: (token) => Number.isInteger(token) && token >= 0 && token < info.vocabularySize && model.isEogToken(asToken(token)),
    generate,
    async openDraftSession(request = {}) {
      const { sequence, signal, done } = await pool.take(request.signal);
      try {
        await sequence.clearHistory();
      } catch (error) {
        done();
        throw error;
      }
      return createDraftSession(model, sequence, { runAhead: request.runAhead, signal, logger }, done);
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
    },
  };
}
