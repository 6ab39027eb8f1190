import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { sendChatCompletion, startLoadGenerator } from "./load-generator.js";

/** A real HTTP server on 127.0.0.1 that answers chat completions the way the gateway does (SSE). */
async function fakeGateway(handler: (body: { max_tokens: number }, res: http.ServerResponse, req: http.IncomingMessage) => void) {
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => handler(JSON.parse(raw) as { max_tokens: number }, res, req));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function streamAnswer(res: http.ServerResponse, tokens: number, end = true) {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (let i = 0; i < tokens; i++) res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: `t${i} ` }, finish_reason: null }] })}\n\n`);
  if (!end) return res.end();
  res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: "length" }] })}\n\n`);
  res.write(`data: ${JSON.stringify({ choices: [], usage: { completion_tokens: tokens } })}\n\n`);
  res.end("data: [DONE]\n\n");
}

const target = (apiUrl: string) => ({ apiUrl, apiKey: "sk-swarm-test", model: "tiny" });

describe("sendChatCompletion", () => {
  it("reads a streamed answer: tokens from usage, the finish reason and the first token's time", async () => {
    let auth: string | undefined;
    const apiUrl = await fakeGateway((body, res, req) => {
      auth = req.headers.authorization;
      streamAnswer(res, body.max_tokens);
    });
    const result = await sendChatCompletion(target(apiUrl), "hello", 7, 0);
    expect(result).toMatchObject({ ok: true, status: 200, completionTokens: 7, finishReason: "length" });
    expect(result.firstTokenMs).not.toBeNull();
    expect(auth).toBe("Bearer sk-swarm-test");
  });

  it("reports an HTTP error with its status and body instead of throwing", async () => {
    const apiUrl = await fakeGateway((_body, res) => {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "1" });
      res.end(JSON.stringify({ error: { message: "the swarm is saturated" } }));
    });
    const result = await sendChatCompletion(target(apiUrl), "hello", 4, 0);
    expect(result.ok).toBe(false);
    expect(result.status).toBe(429);
    expect(result.error).toContain("saturated");
  });

  it("treats a stream cut before data: [DONE] as a failure", async () => {
    const apiUrl = await fakeGateway((_body, res) => streamAnswer(res, 3, false));
    const result = await sendChatCompletion(target(apiUrl), "hello", 4, 0);
    expect(result).toMatchObject({ ok: false, error: "the stream ended without data: [DONE]" });
  });

  it("gives up at its deadline on a gateway that never answers", async () => {
    const apiUrl = await fakeGateway(() => {
      /* never answers */
    });
    const result = await sendChatCompletion({ ...target(apiUrl), requestTimeoutMs: 200 }, "hello", 4, 0);
    expect(result.ok).toBe(false);
    expect(result.status).toBe(0);
  });

  it("reports nothing listening as a failure with status 0", async () => {
    const apiUrl = await fakeGateway(() => {});
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    const result = await sendChatCompletion(target(apiUrl), "hello", 4, 0);
    expect(result).toMatchObject({ ok: false, status: 0 });
  });
});

describe("startLoadGenerator", () => {
  it("keeps the asked number of requests in flight and counts answers, 429s and failures apart", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let n = 0;
    const apiUrl = await fakeGateway((body, res) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const i = n++;
      setTimeout(() => {
        inFlight -= 1;
        if (i % 5 === 3) {
          res.writeHead(429).end("{}");
        } else if (i % 5 === 4) {
          res.writeHead(503).end("{}");
        } else {
          streamAnswer(res, body.max_tokens);
        }
      }, 20);
    });
    const done: boolean[] = [];
    const load = startLoadGenerator({ ...target(apiUrl), concurrency: 3, thinkTimeMs: 0, maxTokens: { min: 2, max: 2 }, onRequestDone: (r) => done.push(r.ok) });
    // Bounded: wait for 15 finished requests or 10 s.
    for (let i = 0; i < 200 && done.length < 15; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await load.stop(5_000);
    const stats = load.stats();
    expect(maxInFlight).toBe(3);
    expect(stats.sent).toBe(stats.completed + stats.throttled + stats.failed);
    expect(stats.completed).toBeGreaterThan(0);
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.failed).toBeGreaterThan(0);
    expect(stats.completionTokens).toBe(stats.completed * 2);
    expect(stats.lastError).toContain("HTTP 503");
  });

  it("stop() lets an answer in flight finish, then sends nothing more", async () => {
    let requests = 0;
    const apiUrl = await fakeGateway((body, res) => {
      requests += 1;
      setTimeout(() => streamAnswer(res, body.max_tokens), 100);
    });
    const load = startLoadGenerator({ ...target(apiUrl), concurrency: 1, thinkTimeMs: 0, maxTokens: { min: 3, max: 3 } });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await load.stop(5_000);
    expect(load.stats()).toMatchObject({ sent: 1, completed: 1, failed: 0 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(requests).toBe(1);
  });

  it("stop() aborts an answer that outlasts the grace period without counting it as a failure", async () => {
    const apiUrl = await fakeGateway(() => {
      /* never answers */
    });
    const load = startLoadGenerator({ ...target(apiUrl), concurrency: 2, thinkTimeMs: 0, maxTokens: { min: 3, max: 3 } });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await load.stop(100);
    expect(load.stats()).toMatchObject({ sent: 2, completed: 0, failed: 0 });
  });
});
