import { systemRandom, type RandomSource } from "../common/index.js";
import type { FinishReason, GeneratedToken, GenerateRequest, GenerationResult, GenerationStream, LoadedModel } from "../engine/index.js";

/**
 * Dishonest workers, for the trust tests and bench/trust only: each wraps a real loaded model and answers
 * jobs the way a cheater would, while the node advertises the honest model's content hash. Nothing in the
 * product constructs these; `StartNodeDeps.serveModelAs` is the one door they come in through.
 *
 * - `random`: random tokens from the vocabulary (no model run at all; very fast).
 * - `impostor`: the answers of another model file (another seed of the same shape, or a quantized copy)
 *   under the honest model's hash: pass that file as `model` and the honest hash as `claimSha256`.
 * - `truncate`: the honest answer cut at half its budget and ended as if the model had stopped (eos).
 * - `replay`: the first answer it ever produced, sent again for every later prompt.
 */
export type CheatKind = "random" | "impostor" | "truncate" | "replay";
export const CHEAT_KINDS: readonly CheatKind[] = ["random", "impostor", "truncate", "replay"];

export function createCheatingModel(model: LoadedModel, cheat: CheatKind, options: { claimSha256?: string; random?: RandomSource } = {}): LoadedModel {
  const random = options.random ?? systemRandom;
  const info = options.claimSha256 ? { ...model.info, sha256: options.claimSha256 } : model.info;
  let replayed: number[] | undefined;

  const promptLength = (request: GenerateRequest) => (typeof request.prompt === "string" ? model.tokenizePrompt(request.prompt).length : request.prompt.tokens.length);

  function generate(request: GenerateRequest): GenerationStream {
    const resumed = request.resumeTokens ?? [];
    const budget = request.maxTokens - resumed.length;
    switch (cheat) {
      case "impostor":
        return model.generate(request);
      case "random": {
        const vocabulary = model.info.vocabularySize;
        // Ids 0–2 are <unk>, <s>, </s> in every generated vocabulary; a cheater avoids ending early.
        const tokens = Array.from({ length: budget }, () => 3 + Math.floor(random() * (vocabulary - 3)));
        return scriptedStream(model, request, tokens, "length", promptLength(request));
      }
      case "replay":
        if (replayed) return scriptedStream(model, request, replayed.slice(0, budget), replayed.length >= budget ? "length" : "eos", promptLength(request));
        return recordFirst(model.generate(request), (result) => (replayed = result.tokens.slice(resumed.length)));
      case "truncate":
        return truncatedStream(model, request, Math.max(1, Math.floor(budget / 2)), promptLength(request));
    }
  }

  return {
    ...model,
    info,
    tokenizePrompt: (text) => model.tokenizePrompt(text),
    tokenize: (text) => model.tokenize(text),
    detokenize: (tokens) => model.detokenize(tokens),
    score: (request) => model.score(request),
    stats: () => model.stats(),
    setAdmission: (admission) => model.setAdmission(admission),
    abortRunning: (reason) => model.abortRunning(reason),
    close: () => model.close(),
    generate,
    generateText: async (request) => {
      const stream = generate(request);
      for await (const _token of stream) {
        // drain
      }
      return stream.result;
    },
  };
}

/** A stream of tokens decided in advance, shaped like the engine's (texts from the real tokenizer). */
function scriptedStream(model: LoadedModel, request: GenerateRequest, tokens: readonly number[], finishReason: FinishReason, promptTokenCount: number): GenerationStream {
  const resumed = request.resumeTokens ?? [];
  const started = performance.now();
  const all = [...resumed, ...tokens];
  const result: GenerationResult = {
    finishReason,
    tokens: all,
    text: model.detokenize(all),
    promptTokenCount,
    generatedTokenCount: tokens.length,
    seed: request.sampling?.seed,
    timeToFirstTokenMs: 0,
    durationMs: 0,
  };
  return {
    result: Promise.resolve(result).then((r) => ({ ...r, durationMs: performance.now() - started })),
    async *[Symbol.asyncIterator](): AsyncGenerator<GeneratedToken> {
      for (const tokenId of tokens) {
        if (request.signal?.aborted) throw request.signal.reason;
        yield { tokenId, text: model.detokenize([tokenId]) };
      }
    },
  };
}

function recordFirst(stream: GenerationStream, record: (result: GenerationResult) => void): GenerationStream {
  return {
    result: stream.result.then((result) => {
      record(result);
      return result;
    }),
    [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](),
  };
}

/** The honest stream, stopped after `keep` tokens and reported as a natural end. */
function truncatedStream(model: LoadedModel, request: GenerateRequest, keep: number, promptTokenCount: number): GenerationStream {
  const controller = new AbortController();
  request.signal?.addEventListener("abort", () => controller.abort(request.signal!.reason), { once: true });
  const honest = model.generate({ ...request, signal: controller.signal });
  honest.result.catch(() => undefined);
  const kept: number[] = [];
  let settle!: (result: GenerationResult) => void;
  let fail!: (error: unknown) => void;
  const result = new Promise<GenerationResult>((resolve, reject) => ((settle = resolve), (fail = reject)));
  result.catch(() => undefined);
  const resumed = request.resumeTokens ?? [];
  return {
    result,
    async *[Symbol.asyncIterator](): AsyncGenerator<GeneratedToken> {
      const started = performance.now();
      try {
        for await (const token of honest) {
          kept.push(token.tokenId);
          yield token;
          if (kept.length >= keep) break;
        }
        const all = [...resumed, ...kept];
        settle({
          finishReason: "eos",
          tokens: all,
          text: model.detokenize(all),
          promptTokenCount,
          generatedTokenCount: kept.length,
          seed: request.sampling?.seed,
          timeToFirstTokenMs: undefined,
          durationMs: performance.now() - started,
        });
      } catch (error) {
        fail(error);
        throw error;
      } finally {
        controller.abort(new Error("truncated"));
      }
    },
  };
}
