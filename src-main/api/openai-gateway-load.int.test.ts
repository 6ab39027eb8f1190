import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelTokenizer, type ModelTokenizer } from "../engine/index.js";
import { ensureSyntheticModel } from "../models/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type NodeProcess, type RunningNode } from "../node/index.js";
import { createOpenAiGateway, type OpenAiGateway } from "./index.js";

// Bounded load: 100 concurrent streaming clients against a small swarm (two worker processes serving the
// tiny model, two jobs at once each, eight queued). Every request must either complete or get a 429, the
// gateway's memory must come back near where it started, and it must keep serving afterwards.
const CLIENTS = 100;
const MAX_TOKENS = 48;
const TIME_BUDGET_MS = 120_000;
/**
 * Generous bounds, because the heap also holds libp2p's and vitest's state: after a forced GC the heap
 * may be at most 24 MiB above its level before the load, and RSS (which the allocator returns to the OS
 * lazily) at most 160 MiB above. A leak of one answer's buffers per request would exceed neither; a leak
 * of each request's sockets or streams would.
 */
const HEAP_GROWTH_BOUND = 24 * 1024 * 1024;
const RSS_GROWTH_BOUND = 160 * 1024 * 1024;
const KEY = `sk-swarm-${"l".repeat(43)}`;

const workers: NodeProcess[] = [];
let requester: RunningNode;
let gateway: OpenAiGateway;
let tokenizer: ModelTokenizer;
let modelId: string;

v8.setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

async function settledMemory() {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage();
}

beforeAll(async () => {
  const tiny = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32", peaky: true });
  workers.push(await spawnNodeProcess(["--model", "tiny", "--mode", "always", "--threads", "1", "--max-jobs", "2"]));
  workers.push(await spawnNodeProcess(["--model", "tiny", "--mode", "always", "--threads", "1", "--max-jobs", "2", "--bootstrap", workers[0]!.addresses[0]!]));
  const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-gateway-load-"));
  requester = await startNode(parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: workers.map((w) => w.addresses[0]!), mdns: false, hardware: false }), {
    paths: { configDir: home, dataDir: home },
  });
  const deadline = Date.now() + 30_000;
  while (requester.adverts.freshAdverts().length < 2) {
    if (Date.now() > deadline) throw new Error("the workers' adverts never arrived");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  tokenizer = await loadModelTokenizer(tiny.path);
  modelId = tokenizer.info.name;
  // One key for every client, allowed them all: what is measured is the swarm's and the gateway's limits.
  gateway = await createOpenAiGateway({ scheduler: requester.scheduler, adverts: requester.adverts, tokenizers: [tokenizer], keys: [{ key: KEY, maxConcurrentRequests: CLIENTS }], port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all(workers.map((w) => w.stop()));
  await requester?.stop();
  await tokenizer?.close();
});

type Outcome = { kind: "completed"; tokens: number } | { kind: "429"; retryAfter: number } | { kind: "other"; detail: string };

async function oneStreamingClient(client: OpenAI, index: number): Promise<Outcome> {
  try {
    const stream = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: "user", content: `Client ${index} asks about the weather.` }],
      temperature: 0,
      max_tokens: MAX_TOKENS,
      stream: true,
      stream_options: { include_usage: true },
    });
    let finish: string | null = null;
    let tokens = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
    }
    return finish ? { kind: "completed", tokens } : { kind: "other", detail: "the stream ended without a finish_reason" };
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status === 429) return { kind: "429", retryAfter: Number(error.headers?.get("retry-after")) };
    return { kind: "other", detail: error instanceof OpenAI.APIError ? `${error.status} ${error.code}: ${error.message}` : String(error) };
  }
}

describe("the gateway under 100 concurrent streaming clients", () => {
  it("completes or refuses with 429 every request, returns to its memory baseline and keeps serving", async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: gateway.baseUrl, maxRetries: 0 });
    // Warm every path once (JIT, connections, the first job on each worker) before the baseline.
    expect((await oneStreamingClient(client, -1)).kind).toBe("completed");
    const before = await settledMemory();

    let peakRss = before.rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const started = performance.now();
    const outcomes = await Promise.race([
      Promise.all(Array.from({ length: CLIENTS }, (_, index) => oneStreamingClient(client, index))),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the load did not finish within ${TIME_BUDGET_MS} ms`)), TIME_BUDGET_MS).unref()),
    ]);
    const elapsedMs = performance.now() - started;
    clearInterval(sampler);

    const completed = outcomes.filter((o) => o.kind === "completed");
    const refused = outcomes.filter((o): o is Extract<Outcome, { kind: "429" }> => o.kind === "429");
    const other = outcomes.filter((o) => o.kind === "other");
    const after = await settledMemory();
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    console.log(
      `load: ${completed.length} completed, ${refused.length} got 429 (Retry-After ${[...new Set(refused.map((r) => r.retryAfter))].sort((x, y) => x - y).join("/") || "-"} s), ${other.length} other, in ${(elapsedMs / 1000).toFixed(1)} s; ` +
        `heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)}, RSS ${mib(before.rss)} → peak ${mib(peakRss)} → ${mib(after.rss)}`,
    );

    expect(other).toEqual([]);
    expect(completed.length + refused.length).toBe(CLIENTS);
    expect(completed.length).toBeGreaterThan(0);
    expect(completed.every((o) => o.kind === "completed" && o.tokens > 0 && o.tokens <= MAX_TOKENS)).toBe(true);
    expect(refused.every((r) => Number.isInteger(r.retryAfter) && r.retryAfter >= 1)).toBe(true);
    expect(gateway.activeRequests()).toBe(0);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(HEAP_GROWTH_BOUND);
    expect(after.rss - before.rss).toBeLessThan(RSS_GROWTH_BOUND);

    // Still serving: one more request completes, waiting out Retry-After while the swarm's backoff lasts.
    const deadline = Date.now() + 60_000;
    let last: Outcome = await oneStreamingClient(client, CLIENTS);
    while (last.kind === "429" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, last.kind === "429" ? last.retryAfter * 1000 : 0));
      last = await oneStreamingClient(client, CLIENTS);
    }
    expect(last.kind).toBe("completed");
  });
});
