import type { LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { asTokens } from "./llama-tokens.js";
import { AnswerTextAssembler, type GeneratedToken } from "./answer-text-assembler.js";
import { abortError, EngineError } from "./engine-errors.js";

export interface SamplingOptions {
  /** 0 (the default) is greedy decoding: deterministic across processes and thread counts. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Makes sampled (temperature > 0) output reproducible; a random one is chosen and reported if absent. */
  seed?: number;
}

export type FinishReason = "eos" | "length" | "stop";

export interface GenerationResult {
  finishReason: FinishReason;
  /** Answer tokens, including any `resumeTokens` the request continued from. */
  tokens: number[];
  /** Answer text, including the text of `resumeTokens`. */
  text: string;
  promptTokenCount: number;
  /** Tokens this call evaluated as new output (excluding resumed ones). */
  generatedTokenCount: number;
  seed: number | undefined;
  timeToFirstTokenMs: number | undefined;
  durationMs: number;
}

export interface GenerationPlan {
  promptTokens: readonly number[];
  resumeTokens: readonly number[];
  /** Total answer budget, resumed tokens included. */
  maxTokens: number;
  stop: readonly string[];
  sampling: SamplingOptions;
  signal?: AbortSignal;
}

/** A token stream with the final result alongside. `result` rejects if the stream fails. */
export interface GenerationStream extends AsyncIterable<GeneratedToken> {
  readonly result: Promise<GenerationResult>;
}

/**
 * Streams tokens from an acquired sequence. `release` runs exactly once when the stream ends for any
 * reason: finished, failed, aborted, or its consumer stopped iterating.
 */
export function streamGeneration(model: LlamaModel, sequence: LlamaContextSequence, plan: GenerationPlan, release: () => void): GenerationStream {
  let settle!: { resolve: (r: GenerationResult) => void; reject: (e: unknown) => void };
  const result = new Promise<GenerationResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined); // the iterator reports the error; `result` is for those who ask
  let started = false;
  let settled = false;

  async function* run(): AsyncGenerator<GeneratedToken> {
    const startedAt = performance.now();
    const { promptTokens, resumeTokens, stop, signal } = plan;
    const temperature = plan.sampling.temperature ?? 0;
    const seed = temperature > 0 ? (plan.sampling.seed ?? Math.floor(Math.random() * 2 ** 31)) : undefined;
    const detokenize = (tokens: readonly number[], preceding: readonly number[]) => model.detokenize(asTokens(tokens), false, asTokens(preceding));
    const resumeText = resumeTokens.length > 0 ? detokenize(resumeTokens, promptTokens.slice(-8)) : "";
    const assembler = new AnswerTextAssembler(detokenize, stop, [...promptTokens, ...resumeTokens], resumeText);
    const kept = [...resumeTokens]; // the answer's tokens: resumed ones, then every token released so far
    let evaluatedAnswerLength = resumeTokens.length;
    let text = resumeText;
    let generated = 0;
    let firstTokenAt: number | undefined;
    let finishReason: FinishReason = "length";
    const emit = (items: GeneratedToken[]) => {
      for (const item of items) {
        text += item.text;
        kept.push(item.tokenId);
      }
      return items;
    };

    try {
      await sequence.clearHistory();
      if (evaluatedAnswerLength < plan.maxTokens) {
        // Only the options that are set: greedy decoding gets exactly the library's greedy path.
        const tokens = sequence.evaluate(asTokens([...promptTokens, ...resumeTokens]), {
          temperature,
          yieldEogToken: true,
          ...(temperature > 0 && { seed }),
          ...(plan.sampling.topK !== undefined && { topK: plan.sampling.topK }),
          ...(plan.sampling.topP !== undefined && { topP: plan.sampling.topP }),
        });
        for await (const token of tokens) {
          if (signal?.aborted) throw abortError(signal);
          generated++;
          firstTokenAt ??= performance.now();
          if (model.isEogToken(token)) {
            finishReason = "eos";
            break;
          }
          evaluatedAnswerLength++;
          const released = emit(assembler.push(token));
          for (const item of released) yield item;
          if (assembler.stopped) {
            finishReason = "stop";
            break;
          }
          if (evaluatedAnswerLength >= plan.maxTokens || sequence.nextTokenIndex >= sequence.contextSize) break;
        }
      }
      signal?.throwIfAborted();
      for (const item of emit(assembler.flush())) yield item;
      settled = true;
      settle.resolve({
        finishReason,
        tokens: kept,
        text,
        promptTokenCount: promptTokens.length,
        generatedTokenCount: generated,
        seed,
        timeToFirstTokenMs: firstTokenAt === undefined ? undefined : firstTokenAt - startedAt,
        durationMs: performance.now() - startedAt,
      });
    } catch (error) {
      const reported = signal?.aborted ? abortError(signal) : error;
      settled = true;
      settle.reject(reported);
      throw reported;
    } finally {
      // A consumer that stops iterating early ends the job like an abort.
      if (!settled) settle.reject(new EngineError("ENGINE_ABORTED", "The consumer stopped reading the token stream."));
      release();
    }
  }

  return {
    result,
    [Symbol.asyncIterator]() {
      if (started) throw new Error("A generation stream can be iterated only once.");
      started = true;
      return run();
    },
  };
}
