import type { Logger } from "../common/index.js";

/**
 * The demo's users: a bounded number of concurrent clients sending OpenAI-style streaming chat
 * completions to a node's gateway, the way any OpenAI client would (plain fetch and server-sent events,
 * so the core needs no client library). Every request has a deadline and every answer a size bound.
 */
export interface LoadGeneratorOptions {
  /** The gateway's OpenAI base URL, e.g. http://127.0.0.1:7481/v1. */
  apiUrl: string;
  apiKey: string;
  model: string;
  /** Clients sending at once (each waits for its answer before the next request). */
  concurrency: number;
  /** Pause between a client's answer and its next request. */
  thinkTimeMs: number;
  maxTokens: { min: number; max: number };
  /** One request's whole deadline. */
  requestTimeoutMs?: number;
  random?: () => number;
  logger?: Logger;
  onRequestDone?: (result: RequestResult) => void;
}

export interface RequestResult {
  ok: boolean;
  /** HTTP status, or 0 when the request never got one (refused, timed out). */
  status: number;
  completionTokens: number;
  finishReason: string | null;
  /** Time to the first content chunk, when one came. */
  firstTokenMs: number | null;
  durationMs: number;
  error?: string;
}

export interface LoadStats {
  sent: number;
  completed: number;
  failed: number;
  /** 429s: the swarm said "busy, retry later"; not a failure of the swarm. */
  throttled: number;
  completionTokens: number;
  firstTokenMs: number[];
  lastError: string | null;
}

export interface LoadGenerator {
  stats(): LoadStats;
  /** Stops sending; resolves when the requests in flight have ended (or been aborted after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

const PROMPTS = [
  "Tell me about the weather over the mountains this week.",
  "Write a short story about a network of friendly machines.",
  "What should a gamer do with an idle graphics card?",
  "Explain how a swarm of computers can answer one question.",
  "Describe the river, the bridge and the old town at night.",
  "List three reasons to share spare computing power.",
];
const MAX_SSE_BYTES = 4 * 1024 * 1024;

export function startLoadGenerator(options: LoadGeneratorOptions): LoadGenerator {
  const random = options.random ?? Math.random;
  // Two steps to stop: `quiet` ends sending (and wakes clients that are pausing); `stopping` aborts answers in flight.
  const quiet = new AbortController();
  const stopping = new AbortController();
  const stats: LoadStats = { sent: 0, completed: 0, failed: 0, throttled: 0, completionTokens: 0, firstTokenMs: [], lastError: null };
  const record = (result: RequestResult) => {
    if (result.ok) {
      stats.completed += 1;
      stats.completionTokens += result.completionTokens;
      if (result.firstTokenMs !== null) stats.firstTokenMs.push(result.firstTokenMs);
      if (stats.firstTokenMs.length > 10_000) stats.firstTokenMs.splice(0, 5_000);
    } else if (result.status === 429) {
      stats.throttled += 1;
    } else if (!stopping.signal.aborted) {
      stats.failed += 1;
      stats.lastError = result.error ?? `HTTP ${result.status}`;
      options.logger?.warn({ status: result.status, error: result.error }, "a demo request failed");
    }
    options.onRequestDone?.(result);
  };

  const client = async (index: number) => {
    let n = 0;
    while (!quiet.signal.aborted) {
      const maxTokens = options.maxTokens.min + Math.floor(random() * (options.maxTokens.max - options.maxTokens.min + 1));
      const prompt = PROMPTS[(index + n++) % PROMPTS.length]!;
      stats.sent += 1;
      const result = await sendChatCompletion(options, prompt, maxTokens, n % 2 === 0 ? 0 : 0.8, stopping.signal);
      record(result);
      const pause = result.status === 429 ? 500 : options.thinkTimeMs;
      await sleep(pause, quiet.signal);
    }
  };
  const clients = Array.from({ length: options.concurrency }, (_, i) => client(i));

  return {
    stats: () => ({ ...stats, firstTokenMs: [...stats.firstTokenMs] }),
    async stop(graceMs = 30_000) {
      // Let answers in flight finish (their receipts are part of the demo) but never wait forever.
      quiet.abort();
      const all = Promise.all(clients);
      const graceOver = new AbortController();
      const timedOut = sleep(graceMs, graceOver.signal).then(() => "timeout" as const);
      if ((await Promise.race([all.then(() => "done" as const), timedOut])) === "timeout") stopping.abort();
      graceOver.abort();
      await all;
    },
  };
}

/** One streaming chat completion; never throws. */
export async function sendChatCompletion(
  options: Pick<LoadGeneratorOptions, "apiUrl" | "apiKey" | "model" | "requestTimeoutMs">,
  prompt: string,
  maxTokens: number,
  temperature: number,
  signal?: AbortSignal,
): Promise<RequestResult> {
  const started = performance.now();
  const deadline = AbortSignal.timeout(options.requestTimeoutMs ?? 120_000);
  const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const failed = (status: number, error: string): RequestResult => ({ ok: false, status, completionTokens: 0, finishReason: null, firstTokenMs: null, durationMs: performance.now() - started, error });
  let response: Response;
  try {
    response = await fetch(`${options.apiUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${options.apiKey}` },
      body: JSON.stringify({
        model: options.model,
        messages: [{ role: "user", content: prompt }],
        max_tokens: maxTokens,
        temperature,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: abort,
    });
  } catch (error) {
    return failed(0, describe(error));
  }
  if (!response.ok || !response.body) {
    const body = await response.text().catch(() => "");
    return failed(response.status, `HTTP ${response.status}: ${body.slice(0, 300)}`);
  }
  let firstTokenMs: number | null = null;
  let completionTokens = 0;
  let finishReason: string | null = null;
  let sawDone = false;
  let buffered = "";
  let received = 0;
  try {
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      received += chunk.byteLength;
      if (received > MAX_SSE_BYTES) return failed(response.status, `the answer exceeded ${MAX_SSE_BYTES} bytes`);
      buffered += decoder.decode(chunk, { stream: true });
      let boundary: number;
      while ((boundary = buffered.indexOf("\n\n")) >= 0) {
        const event = buffered.slice(0, boundary);
        buffered = buffered.slice(boundary + 2);
        const data = event.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
        if (data === "") continue;
        if (data === "[DONE]") {
          sawDone = true;
          continue;
        }
        const parsed = JSON.parse(data) as {
          choices?: { delta?: { content?: string }; finish_reason?: string | null }[];
          usage?: { completion_tokens?: number } | null;
          error?: { message?: string };
        };
        if (parsed.error) return failed(response.status, `the stream ended with an error: ${parsed.error.message ?? "unknown"}`);
        const choice = parsed.choices?.[0];
        if (choice?.delta?.content && firstTokenMs === null) firstTokenMs = performance.now() - started;
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (parsed.usage?.completion_tokens !== undefined) completionTokens = parsed.usage.completion_tokens;
      }
    }
  } catch (error) {
    return failed(response.status, describe(error));
  }
  if (!sawDone) return failed(response.status, "the stream ended without data: [DONE]");
  return { ok: true, status: response.status, completionTokens, finishReason, firstTokenMs, durationMs: performance.now() - started };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return String(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
