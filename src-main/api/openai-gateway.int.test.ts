import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine, loadModelTokenizer, type ModelTokenizer } from "../engine/index.js";
import { ensureSyntheticModel } from "../models/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type NodeProcess, type RunningNode } from "../node/index.js";
import { createOpenAiGateway, type OpenAiGateway } from "./index.js";

// A real swarm on 127.0.0.1: two worker processes serving the generated small model (one also serves
// tiny, which this gateway does not hold), a requester node in this process, and the gateway in front of
// its scheduler, exercised with the official `openai` client.
const KEY = `sk-swarm-${"i".repeat(43)}`;
const ONE_AT_A_TIME_KEY = `sk-swarm-${"o".repeat(43)}`;
const messages = [
  { role: "system" as const, content: "You answer questions about the weather." },
  { role: "user" as const, content: "Will it rain in the swarm tomorrow?" },
];

const workers: NodeProcess[] = [];
let requester: RunningNode;
let gateway: OpenAiGateway;
let tokenizers: ModelTokenizer[] = [];
let client: OpenAI;
let smallId: string;
let smallSha: string;
let unservedId: string;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The worker whose printed job lines show it started this job. */
const workerRunning = (jobId: string) => workers.find((w) => w.output.some((line) => line.startsWith(`job ${jobId} from `) && line.endsWith(": started")));
const jobIdOf = (responseId: string) => responseId.replace(/^(chatcmpl|cmpl)-/, "");

beforeAll(async () => {
  const small = await ensureSyntheticModel({ preset: "small", seed: 1, quantization: "F32", peaky: true });
  // Held by the gateway but served by nobody: the 503 case.
  const unserved = await ensureSyntheticModel({ preset: "tiny", seed: 2, quantization: "F32", peaky: true, name: "nobody-serves-this" });
  smallSha = small.sha256;
  workers.push(await spawnNodeProcess(["--model", "small", "--model", "tiny", "--mode", "always", "--threads", "1", "--max-jobs", "1"]));
  workers.push(await spawnNodeProcess(["--model", "small", "--mode", "always", "--threads", "1", "--max-jobs", "1", "--bootstrap", workers[0]!.addresses[0]!]));
  const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-gateway-requester-"));
  requester = await startNode(parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: workers.map((w) => w.addresses[0]!), mdns: false, hardware: false }), {
    paths: { configDir: home, dataDir: home },
    // A killed worker is noticed at once (stream reset); a short frame deadline keeps any stall short.
    schedulerOptions: { frameDeadlineMs: 2_000 },
  });
  await waitFor(() => requester.adverts.freshAdverts().length >= 2, "2 worker adverts");
  tokenizers = [await loadModelTokenizer(small.path), await loadModelTokenizer(unserved.path)];
  smallId = tokenizers[0]!.info.name;
  unservedId = tokenizers[1]!.info.name;
  gateway = await createOpenAiGateway({
    scheduler: requester.scheduler,
    adverts: requester.adverts,
    tokenizers,
    keys: [{ key: KEY }, { key: ONE_AT_A_TIME_KEY, maxConcurrentRequests: 1 }],
    port: 0,
  });
  client = new OpenAI({ apiKey: KEY, baseURL: gateway.baseUrl, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all(workers.map((w) => w.stop()));
  await requester?.stop();
  await Promise.all(tokenizers.map((t) => t.close()));
});

async function failure(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

async function streamChat(maxTokens: number, onChunk: (count: number, jobId: string) => void = () => undefined) {
  const stream = await client.chat.completions.create({ model: smallId, messages, temperature: 0, max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let chunks = 0;
  let finish: string | null = null;
  let jobId = "";
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    jobId = jobIdOf(chunk.id);
    const choice = chunk.choices[0];
    if (choice?.delta.content) {
      text += choice.delta.content;
      onChunk(++chunks, jobId);
    }
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, finish, jobId, usage };
}

describe("the OpenAI-compatible API over a real swarm", () => {
  it("lists the models the swarm serves that the gateway can tokenize", async () => {
    const models = (await client.models.list()).data as unknown as { id: string; sha256: string; workers: number; context_length: number }[];
    expect(models.map((m) => m.id)).toEqual([smallId]);
    expect(models[0]).toMatchObject({ sha256: smallSha, workers: 2, context_length: 2048 });
  });

  it("answers a non-streaming chat with the greedy continuation of the template-rendered prompt", async () => {
    const completion = await client.chat.completions.create({ model: smallId, messages, temperature: 0, max_tokens: 24 });
    const rendered = tokenizers[0]!.renderChat(messages);
    const engine = await createEngine({ gpu: false });
    try {
      const model = await engine.loadModel(tokenizers[0]!.info.path, { threads: 1 });
      const expected = await model.generateText({ prompt: { tokens: rendered.tokens }, maxTokens: 24 });
      expect(completion.choices[0]!.message.content).toBe(expected.text);
      expect(completion.choices[0]!.finish_reason).toBe(expected.finishReason === "length" ? "length" : "stop");
      expect(completion.usage).toEqual({ prompt_tokens: rendered.tokens.length, completion_tokens: expected.tokens.length, total_tokens: rendered.tokens.length + expected.tokens.length });
    } finally {
      await engine.close();
    }
    expect(workers.map((w) => w.peerId)).toContain((completion as unknown as { inferswarm: { worker: string } }).inferswarm.worker);
  });

  it("streams the same answer as server-sent events, with usage", async () => {
    const whole = await client.chat.completions.create({ model: smallId, messages, temperature: 0, max_tokens: 40 });
    const streamed = await streamChat(40);
    expect(streamed.text).toBe(whole.choices[0]!.message.content);
    expect(streamed.finish).toBe(whole.choices[0]!.finish_reason);
    expect(streamed.usage).toEqual(whole.usage);
  });

  it("stops a completion before the first stop sequence", async () => {
    const prompt = "The swarm answers questions about the weather";
    const full = (await client.completions.create({ model: smallId, prompt, temperature: 0, max_tokens: 60 })).choices[0]!;
    const stop = full.text.slice(30, 34);
    expect(stop.trim().length).toBeGreaterThan(0);
    const stopped = (await client.completions.create({ model: smallId, prompt, temperature: 0, max_tokens: 60, stop: [stop, "\u0000never"] })).choices[0]!;
    expect(stopped.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(stopped.finish_reason).toBe("stop");
  });

  it("answers every error status in OpenAI's shape", async () => {
    const chat = (body: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>, api = client) =>
      failure(api.chat.completions.create({ model: smallId, messages, max_tokens: 8, ...body } as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(await chat({ n: 2 })).toMatchObject({ status: 400, type: "invalid_request_error" });
    const wrongKey = new OpenAI({ apiKey: `sk-swarm-${"w".repeat(43)}`, baseURL: gateway.baseUrl, maxRetries: 0 });
    expect(await chat({}, wrongKey)).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(await chat({ model: "no-such-model" })).toMatchObject({ status: 404, code: "model_not_found" });
    const notHeld = await chat({ model: "inferswarm-synthetic-tiny" });
    expect(notHeld).toMatchObject({ status: 404, code: "model_not_held_locally" });
    expect(notHeld.message).toMatch(/served by 1 worker\(s\), but this gateway holds no copy of its GGUF/);
    const tooLong = await chat({ max_tokens: 3000 });
    expect(tooLong).toMatchObject({ status: 413, code: "context_length_exceeded" });
    expect(tooLong.message).toMatch(/holds 2048 \(the smallest context among the workers that advertise it\)/);
    const unserved = await chat({ model: unservedId });
    expect(unserved).toMatchObject({ status: 503, code: "no_worker_available" });

    // 429: a key allowed one request in flight asks for a second while its first is streaming.
    const oneAtATime = new OpenAI({ apiKey: ONE_AT_A_TIME_KEY, baseURL: gateway.baseUrl, maxRetries: 0 });
    const controller = new AbortController();
    const first = await oneAtATime.chat.completions.create({ model: smallId, messages, temperature: 0, max_tokens: 1500, stream: true }, { signal: controller.signal });
    const iterator = first[Symbol.asyncIterator]();
    await iterator.next();
    const limited = await chat({}, oneAtATime);
    expect(limited).toMatchObject({ status: 429, code: "concurrency_limit_exceeded" });
    expect(Number(limited.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
    controller.abort();
    await iterator.return?.();
    await waitFor(() => gateway.activeRequests() === 0, "the aborted request to end", 10_000);
  });

  it("ends the job on its worker when the client aborts mid-stream", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: smallId, messages, temperature: 0, max_tokens: 1500, stream: true }, { signal: controller.signal });
    let jobId = "";
    let chunks = 0;
    try {
      for await (const chunk of stream) {
        jobId = jobIdOf(chunk.id);
        if (++chunks === 5) controller.abort();
      }
    } catch {
      // the client reports its own abort
    }
    expect(jobId).not.toBe("");
    const worker = workerRunning(jobId);
    expect(worker).toBeDefined();
    // The worker prints one line when a job ends: "gone" is a requester that left (nothing more sent).
    await waitFor(() => worker!.output.some((line) => line.startsWith(`job ${jobId} from `) && / gone/.test(line)), "the worker to drop the job", 10_000);
    await waitFor(() => gateway.activeRequests() === 0, "the gateway to free the request", 10_000);
    const generated = Number(/(\d+) tokens in/.exec(worker!.output.find((line) => line.startsWith(`job ${jobId} from `) && / gone/.test(line))!)?.[1]);
    expect(generated).toBeLessThan(1500);
  });

  it("keeps the SSE stream whole when the serving worker is killed mid-answer (failover is invisible)", async () => {
    const uninterrupted = await streamChat(300);
    let victim: NodeProcess | undefined;
    const interrupted = await streamChat(300, (count, jobId) => {
      if (count !== 20) return;
      victim = workerRunning(jobId);
      victim?.proc.kill("SIGKILL");
    });
    expect(victim).toBeDefined();
    expect(interrupted.text).toBe(uninterrupted.text);
    expect(interrupted.finish).toBe(uninterrupted.finish);
    expect(interrupted.usage).toEqual(uninterrupted.usage);
    const survivor = workers.find((w) => w !== victim)!;
    expect(workerRunning(interrupted.jobId)).toBeDefined();
    // The survivor resumed the job: it printed the same job id.
    expect(survivor.output.some((line) => line.startsWith(`job ${interrupted.jobId} from `))).toBe(true);
  });
});
