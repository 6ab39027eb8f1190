import type { ServerResponse } from "node:http";
import type { JobRunResult } from "../scheduler/index.js";
import type { ChatCompletion, ChatCompletionChunk, Completion, ErrorBody, FinishReason, Usage } from "./openai-schemas.js";

/** The swarm's finish reasons in OpenAI's words: end-of-sequence and a stop sequence both mean "stop". */
export function finishReasonOf(reason: JobRunResult["finishReason"]): FinishReason {
  return reason === "length" ? "length" : "stop";
}

export function usageOf(result: JobRunResult, promptTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: result.answerTokens, total_tokens: promptTokens + result.answerTokens };
}

/** What every body of one request shares. */
export interface ResponseHead {
  id: string;
  created: number;
  model: string;
  modelSha256: string;
}

export function chatCompletionBody(head: ResponseHead, text: string, result: JobRunResult, promptTokens: number): ChatCompletion {
  return {
    id: head.id,
    object: "chat.completion",
    created: head.created,
    model: head.model,
    choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: finishReasonOf(result.finishReason) }],
    usage: usageOf(result, promptTokens),
    inferswarm: { model_sha256: head.modelSha256, worker: result.workerPeerId, attempts: result.attempts.length },
  };
}

export function completionBody(head: ResponseHead, text: string, result: JobRunResult, promptTokens: number): Completion {
  return {
    id: head.id,
    object: "text_completion",
    created: head.created,
    model: head.model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReasonOf(result.finishReason) }],
    usage: usageOf(result, promptTokens),
    inferswarm: { model_sha256: head.modelSha256, worker: result.workerPeerId, attempts: result.attempts.length },
  };
}

/** The chunks of one streamed answer, for either endpoint. */
export interface ChunkMaker {
  /** Sent once before any text (chat: the assistant role). Undefined when the endpoint has none. */
  opening(): object | undefined;
  text(text: string): object;
  finish(reason: FinishReason): object;
  /** The extra chunk `stream_options.include_usage` asks for: no choices, only usage. */
  usage(usage: Usage): object;
}

export function chatChunks(head: ResponseHead): ChunkMaker {
  const chunk = (choices: ChatCompletionChunk["choices"], usage?: Usage): ChatCompletionChunk => ({
    id: head.id,
    object: "chat.completion.chunk",
    created: head.created,
    model: head.model,
    choices,
    ...(usage && { usage }),
  });
  return {
    opening: () => chunk([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]),
    text: (text) => chunk([{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]),
    finish: (reason) => chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: reason }]),
    usage: (usage) => chunk([], usage),
  };
}

export function completionChunks(head: ResponseHead): ChunkMaker {
  const chunk = (choices: Completion["choices"], usage?: Usage): Completion => ({
    id: head.id,
    object: "text_completion",
    created: head.created,
    model: head.model,
    choices,
    ...(usage && { usage }),
  });
  return {
    opening: () => undefined,
    text: (text) => chunk([{ index: 0, text, logprobs: null, finish_reason: null }]),
    finish: (reason) => chunk([{ index: 0, text: "", logprobs: null, finish_reason: reason }]),
    usage: (usage) => chunk([], usage),
  };
}

export interface SseWriter {
  data(payload: object | "[DONE]"): Promise<void>;
  /** An error after the stream started: `event: error` with OpenAI's error body (the official client throws it). */
  error(body: ErrorBody): Promise<void>;
  end(): void;
  /** The client is gone: nothing more can be written. */
  readonly closed: boolean;
}

/**
 * Server-sent events on a raw response. Writes wait for the socket to drain, so a slow reader holds at most
 * one answer's tokens (the scheduler's buffer, bounded by max_tokens) rather than an unbounded write queue;
 * a reader that takes nothing for `writeStallMs` is disconnected (which aborts its job). A comment line
 * every `keepaliveMs` keeps idle proxies from closing the stream during a long failover.
 */
export function openSse(res: ServerResponse, headers: Record<string, string>, timing: { keepaliveMs: number; writeStallMs: number }): SseWriter {
  const { keepaliveMs, writeStallMs } = timing;
  res.writeHead(200, {
    ...headers,
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-store",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  // No flushHeaders(): the stream opens once the first token is there, and the headers go out with it.
  const closed = () => res.destroyed || res.writableEnded;
  let lastWrite = Date.now();
  const keepalive = setInterval(() => {
    if (closed()) return clearInterval(keepalive);
    if (Date.now() - lastWrite >= keepaliveMs) write(": keepalive\n\n");
  }, keepaliveMs);
  keepalive.unref();

  // Tokens of one worker frame arrive together: events written in the same turn of the event loop go
  // out in one socket write instead of one each.
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };

  function write(text: string): Promise<void> {
    if (closed()) return Promise.resolve();
    lastWrite = Date.now();
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    if (res.write(text)) return Promise.resolve();
    return new Promise((resolve) => {
      const stalled = setTimeout(() => res.destroy(), writeStallMs);
      const done = () => {
        clearTimeout(stalled);
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  }

  return {
    data: (payload) => write(`data: ${payload === "[DONE]" ? payload : JSON.stringify(payload)}\n\n`),
    error: (body) => write(`event: error\ndata: ${JSON.stringify(body)}\n\n`),
    end() {
      clearInterval(keepalive);
      if (corked) uncork();
      if (!closed()) res.end();
    },
    get closed() {
      return closed();
    },
  };
}
