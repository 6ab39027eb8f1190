import http from "node:http";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { SwarmError, type CapacityAdvertBody } from "../swarm/index.js";
import { advert, fakeScheduler, fakeTokenizer, type FakeScheduler } from "./openai-gateway.test-support.js";
import { chatCompletionChunkSchema, chatCompletionSchema, completionSchema, createOpenAiGateway, errorBodySchema, modelListSchema, type OpenAiGateway } from "./index.js";

const KEY = `sk-swarm-${"k".repeat(43)}`;
const SMALL_KEY = `sk-swarm-${"s".repeat(43)}`;
const SHA_TINY = "a".repeat(64);
const SHA_OTHER = "b".repeat(64);
const SHA_LOCAL_ONLY = "c".repeat(64);
const SHA_REMOTE_ONLY = "d".repeat(64);

let gateway: OpenAiGateway | undefined;
let scheduler: FakeScheduler;
let adverts: CapacityAdvertBody[];

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

async function start(options: { contextSize?: number; maxConcurrentJobs?: number } = {}) {
  scheduler = fakeScheduler();
  adverts = [
    advert("worker-a", [
      { sha256: SHA_TINY, name: "tiny", contextSize: options.contextSize ?? 256 },
      { sha256: SHA_REMOTE_ONLY, name: "remote-only" },
    ]),
    advert("worker-b", [{ sha256: SHA_TINY, name: "tiny", contextSize: 512 }, { sha256: SHA_OTHER, name: "plain" }]),
  ];
  gateway = await createOpenAiGateway({
    scheduler,
    adverts: { freshAdverts: () => adverts },
    tokenizers: [fakeTokenizer("tiny", SHA_TINY, 1024), fakeTokenizer("plain", SHA_OTHER, 1024, false), fakeTokenizer("local-only", SHA_LOCAL_ONLY)],
    keys: [{ key: KEY }, { key: SMALL_KEY, maxConcurrentRequests: 1, label: "small" }],
    port: 0,
    ...(options.maxConcurrentJobs !== undefined && { maxConcurrentJobs: options.maxConcurrentJobs }),
    newJobId: (() => {
      let n = 0;
      return () => `job-${String(++n).padStart(4, "0")}`;
    })(),
  });
  return new OpenAI({ apiKey: KEY, baseURL: gateway.baseUrl, maxRetries: 0 });
}

async function failure(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe("GET /v1/models", () => {
  it("lists the models the swarm advertises and this gateway can tokenize, with their hash and context", async () => {
    const client = await start();
    const page = await client.models.list();
    const raw = modelListSchema.parse({ object: "list", data: page.data });
    expect(raw.data.map((m) => m.id).sort()).toEqual(["plain", "tiny"]);
    const tiny = raw.data.find((m) => m.id === "tiny")!;
    expect(tiny).toMatchObject({ sha256: SHA_TINY, context_length: 256, workers: 2, available_workers: 2, owned_by: "inferswarm" });
    expect((await client.models.retrieve("tiny")).id).toBe("tiny");
    expect((await failure(client.models.retrieve("remote-only"))).status).toBe(404);
  });
});

describe("POST /v1/chat/completions", () => {
  it("renders the chat with the model's template and maps OpenAI's parameters onto the job", async () => {
    const client = await start();
    const completion = await client.chat.completions.create({
      model: "tiny",
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hi" }] },
      ],
      temperature: 0.7,
      top_p: 0.9,
      seed: -1,
      stop: ["\n\n", ""],
      max_tokens: 20,
    });
    expect(chatCompletionSchema.parse(completion)).toMatchObject({
      id: "chatcmpl-job-0001",
      model: "tiny",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello world" }, finish_reason: "stop" }],
      inferswarm: { model_sha256: SHA_TINY, worker: "worker-a", attempts: 1 },
    });
    const request = scheduler.requests[0]!;
    const rendered = fakeTokenizer("tiny", SHA_TINY).renderChat([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ]);
    expect(request).toMatchObject({ modelSha256: SHA_TINY, prompt: { tokens: rendered.tokens }, maxTokens: 20, stop: ["\n\n"], sampling: { temperature: 0.7, topP: 0.9, seed: 2 ** 32 - 1 } });
    expect(completion.usage).toEqual({ prompt_tokens: rendered.tokens.length, completion_tokens: 2, total_tokens: rendered.tokens.length + 2 });
  });

  it("defaults to OpenAI's temperature 1, greedy for temperature 0, and an answer budget of what the context has left", async () => {
    const client = await start();
    await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }] });
    await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], temperature: 0, seed: 5, max_completion_tokens: 7 });
    const [first, second] = scheduler.requests;
    expect(first!.sampling).toEqual({ temperature: 1 });
    expect(first!.maxTokens).toBe(256 - first!.prompt.tokens.length);
    expect(second!.sampling).toEqual({ temperature: 0 });
    expect(second!.maxTokens).toBe(7);
  });

  it("reports length when the budget ran out", async () => {
    const client = await start();
    scheduler.scripts.push({ texts: ["a", "b"], finishReason: "length" });
    const completion = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], max_tokens: 2 });
    expect(completion.choices[0]!.finish_reason).toBe("length");
  });

  it("streams a role chunk, one chunk per token, the finish chunk, usage on request, then [DONE]", async () => {
    const client = await start();
    scheduler.scripts.push({ texts: ["One", "", " two"], finishReason: "stop" });
    const chunks = await collect(await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], stream: true, stream_options: { include_usage: true } }));
    for (const chunk of chunks) chatCompletionChunkSchema.parse(chunk);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.flatMap((c) => c.choices.map((choice) => choice.delta.content ?? "")).join("")).toBe("One two");
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBe(2); // the empty token sends nothing
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 3 });
  });

  it("sends the raw SSE framing: data lines, and data: [DONE] at the end", async () => {
    await start();
    const response = await fetch(`${gateway!.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], stream: true }),
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("x-request-id")).toBe("job-0001");
    const text = await response.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(text.split("\n\n").filter(Boolean).every((event) => event.startsWith("data: "))).toBe(true);
  });

  it("refuses n other than 1, tools, bad bodies and models without a chat template with 400", async () => {
    const client = await start();
    const messages = [{ role: "user" as const, content: "x" }];
    expect(await failure(client.chat.completions.create({ model: "tiny", messages, n: 2 }))).toMatchObject({ status: 400, param: "n" });
    expect(
      await failure(client.chat.completions.create({ model: "tiny", messages, tools: [{ type: "function", function: { name: "f", parameters: {} } }] })),
    ).toMatchObject({ status: 400, code: "unsupported_parameter", param: "tools" });
    expect(await failure(client.chat.completions.create({ model: "tiny", messages: [] }))).toMatchObject({ status: 400, param: "messages" });
    expect(await failure(client.chat.completions.create({ model: "tiny", messages, temperature: 3 }))).toMatchObject({ status: 400, param: "temperature" });
    expect(await failure(client.chat.completions.create({ model: "plain", messages }))).toMatchObject({ status: 400, param: "model" });
    const raw = await fetch(`${gateway!.baseUrl}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: "{not json" });
    expect(raw.status).toBe(400);
    expect(errorBodySchema.parse(await raw.json()).error.type).toBe("invalid_request_error");
    expect(scheduler.requests).toHaveLength(0);
  });
});

describe("POST /v1/completions", () => {
  it("tokenizes the prompt, passes stop sequences and max_tokens (default 16), and streams text chunks", async () => {
    const client = await start();
    const completion = await client.completions.create({ model: "tiny", prompt: "The swarm", stop: "END", max_tokens: 5 });
    expect(completionSchema.parse(completion).choices[0]).toMatchObject({ text: "Hello world", finish_reason: "stop" });
    expect(scheduler.requests[0]).toMatchObject({ prompt: { tokens: fakeTokenizer("tiny", SHA_TINY).tokenizePrompt("The swarm") }, stop: ["END"], maxTokens: 5 });
    await client.completions.create({ model: SHA_TINY, prompt: [[1, 2, 3]] });
    expect(scheduler.requests[1]).toMatchObject({ prompt: { tokens: [1, 2, 3] }, maxTokens: 16 });
    const chunks = await collect(await client.completions.create({ model: "tiny", prompt: "x", stream: true }));
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe("Hello world");
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("refuses several prompts, echo and out-of-vocabulary tokens with 400", async () => {
    const client = await start();
    expect(await failure(client.completions.create({ model: "tiny", prompt: ["a", "b"] }))).toMatchObject({ status: 400, param: "prompt" });
    expect(await failure(client.completions.create({ model: "tiny", prompt: "a", echo: true }))).toMatchObject({ status: 400, param: "echo" });
    expect(await failure(client.completions.create({ model: "tiny", prompt: [5000] }))).toMatchObject({ status: 400, param: "prompt" });
  });
});

describe("errors in OpenAI's shape", () => {
  it("401 for a missing or wrong key", async () => {
    await start();
    const wrong = new OpenAI({ apiKey: `sk-swarm-${"x".repeat(43)}`, baseURL: gateway!.baseUrl, maxRetries: 0 });
    expect(await failure(wrong.models.list())).toMatchObject({ status: 401, code: "invalid_api_key" });
    const none = await fetch(`${gateway!.baseUrl}/models`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("404 for an unknown model, and one that says so for a model advertised but not held here", async () => {
    const client = await start();
    const messages = [{ role: "user" as const, content: "x" }];
    expect(await failure(client.chat.completions.create({ model: "nope", messages }))).toMatchObject({ status: 404, code: "model_not_found" });
    const notHeld = await failure(client.chat.completions.create({ model: "remote-only", messages }));
    expect(notHeld).toMatchObject({ status: 404, code: "model_not_held_locally" });
    expect(notHeld.message).toMatch(/holds no copy of its GGUF/);
    const unknownRoute = await fetch(`${gateway!.baseUrl}/embeddings`, { method: "POST", headers: { authorization: `Bearer ${KEY}` } });
    expect(unknownRoute.status).toBe(404);
  });

  it("413 when prompt plus max_tokens exceed the smallest advertised context, or the body is too large", async () => {
    const client = await start({ contextSize: 64 });
    const error = await failure(client.completions.create({ model: "tiny", prompt: "x".repeat(40), max_tokens: 30 }));
    expect(error).toMatchObject({ status: 413, code: "context_length_exceeded", param: "max_tokens" });
    expect(error.message).toMatch(/holds 64 \(the smallest context among the workers/);
    expect(await failure(client.completions.create({ model: "tiny", prompt: "x".repeat(70) }))).toMatchObject({ status: 413 });
    const huge = await failure(client.completions.create({ model: "tiny", prompt: "x".repeat(1_100_000) }));
    expect(huge).toMatchObject({ status: 413, code: "request_too_large" });
    expect(scheduler.requests).toHaveLength(0);
  });

  it("429 with Retry-After when the key has too many requests in flight", async () => {
    const client = await start();
    const small = new OpenAI({ apiKey: SMALL_KEY, baseURL: gateway!.baseUrl, maxRetries: 0 });
    scheduler.scripts.push({ texts: ["slow"], hang: true });
    const controller = new AbortController();
    const first = small.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }] }, { signal: controller.signal });
    first.catch(() => undefined);
    await waitFor(() => gateway!.activeRequests() === 1);
    const error = await failure(small.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "y" }] }));
    expect(error).toMatchObject({ status: 429, code: "concurrency_limit_exceeded" });
    expect(error.headers?.get("retry-after")).toBe("1");
    // Another key is not held back by it.
    await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "z" }] });
    controller.abort();
    await waitFor(() => gateway!.activeRequests() === 0);
  });

  it("429 when the gateway already runs its limit of jobs, whichever key asks", async () => {
    const client = await start({ maxConcurrentJobs: 1 });
    scheduler.scripts.push({ texts: ["slow"], hang: true });
    const controller = new AbortController();
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }] }, { signal: controller.signal }).catch(() => undefined);
    await waitFor(() => gateway!.activeRequests() === 1);
    const small = new OpenAI({ apiKey: SMALL_KEY, baseURL: gateway!.baseUrl, maxRetries: 0 });
    const error = await failure(small.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "y" }] }));
    expect(error).toMatchObject({ status: 429, code: "gateway_saturated" });
    controller.abort();
    await waitFor(() => gateway!.activeRequests() === 0);
    await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "z" }] });
  });

  it("429 when every worker of the model is busy or backing off, 503 when none serves it", async () => {
    const client = await start();
    const messages = [{ role: "user" as const, content: "x" }];
    const noWorkers = () => new SwarmError("SWARM_NO_WORKERS", "none", { retryable: true });
    scheduler.backoff.set("worker-a", Date.now() + 4_500);
    scheduler.backoff.set("worker-b", Date.now() + 2_500);
    scheduler.scripts.push({ error: noWorkers() });
    const saturated = await failure(client.chat.completions.create({ model: "tiny", messages }));
    expect(saturated).toMatchObject({ status: 429, code: "swarm_saturated" });
    expect(saturated.headers?.get("retry-after")).toBe("3");
    // Streaming requests get the status too: nothing is sent before the first token.
    scheduler.scripts.push({ error: noWorkers() });
    expect(await failure(client.chat.completions.create({ model: "tiny", messages, stream: true }))).toMatchObject({ status: 429 });

    scheduler.scripts.push({ error: noWorkers() });
    expect(await failure(client.chat.completions.create({ model: "local-only", messages }))).toMatchObject({ status: 503, code: "no_worker_available" });
    scheduler.scripts.push({ error: new SwarmError("SWARM_WORKER_ERROR", "too long", { retryable: false, workerCode: "ENGINE_PROMPT_TOO_LONG" }) });
    expect(await failure(client.chat.completions.create({ model: "tiny", messages }))).toMatchObject({ status: 413 });
  });

  it("turns a failure after the stream started into an SSE error event that the client throws", async () => {
    const client = await start();
    scheduler.scripts.push({ texts: ["a", "b", "c"], error: new SwarmError("SWARM_ATTEMPTS_EXHAUSTED", "gone", { retryable: true, attemptCodes: ["SWARM_STALLED"] }), failAfter: 2 });
    const stream = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], stream: true });
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
      })(),
    );
    expect(seen.join("")).toBe("ab");
    expect(error.message).toMatch(/No worker could run the job/);
  });

  it("421 for a Host header that is not the loopback address it listens on", async () => {
    await start();
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request({ host: "127.0.0.1", port: gateway!.port, path: "/v1/models", headers: { host: "evil.example:80", authorization: `Bearer ${KEY}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      request.on("error", reject);
      request.end();
    });
    expect(status).toBe(421);
  });
});

describe("client disconnects", () => {
  it("abort the job's signal, streaming or not, and free the key's slot", async () => {
    const client = await start();
    scheduler.scripts.push({ texts: Array.from({ length: 1000 }, () => "t"), tokenDelayMs: 5 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], stream: true }, { signal: controller.signal });
    let chunks = 0;
    try {
      for await (const _chunk of stream) if (++chunks === 3) controller.abort();
    } catch {
      // the client reports its own abort, or ends the stream quietly
    }
    await waitFor(() => scheduler.signals[0]!.aborted);

    scheduler.scripts.push({ texts: ["never"], hang: true });
    const second = new AbortController();
    const pending = client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }] }, { signal: second.signal });
    pending.catch(() => undefined);
    await waitFor(() => scheduler.signals.length === 2);
    second.abort();
    await waitFor(() => scheduler.signals[1]!.aborted);
    await waitFor(() => gateway!.activeRequests() === 0);
  });
});

describe("a streaming client that stops reading", () => {
  it("is disconnected after the write stall deadline, which aborts its job", async () => {
    scheduler = fakeScheduler();
    gateway = await createOpenAiGateway({
      scheduler,
      adverts: { freshAdverts: () => [advert("worker-a", [{ sha256: SHA_TINY, name: "tiny", contextSize: 8192 }])] },
      tokenizers: [fakeTokenizer("tiny", SHA_TINY, 8192)],
      keys: [{ key: KEY }],
      port: 0,
      sseWriteStallMs: 300,
    });
    // ~16 MB of events: far more than the loopback socket buffers hold.
    scheduler.scripts.push({ texts: Array.from({ length: 8000 }, () => "x".repeat(2000)) });
    const request = http.request({ host: "127.0.0.1", port: gateway.port, path: "/v1/completions", method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" } });
    request.on("response", (res) => res.pause()); // reads the headers, then nothing
    request.on("error", () => undefined); // the gateway hangs up on us
    request.end(JSON.stringify({ model: "tiny", prompt: "x", max_tokens: 8000, stream: true }));
    await waitFor(() => scheduler.signals[0]?.aborted === true, 10_000);
    await waitFor(() => gateway!.activeRequests() === 0);
    request.destroy();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
