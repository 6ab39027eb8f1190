/**
 * bench/gateway: the same greedy request streamed through the OpenAI-compatible gateway (official `openai`
 * client, SSE over loopback HTTP) vs `scheduler.runJob` on the same requester directly, in one run against
 * one worker process. Reports the decode tok/s ratio and the time to first token the gateway adds
 * (HTTP, validation, tokenization, SSE framing and the client's parsing). Rounds alternate the order;
 * ratios and differences are taken per round and their medians reported. Last line: one JSON object.
 */
import OpenAI from "openai";
import { createOpenAiGateway } from "../../src-main/api/index.js";
import { loadModelTokenizer } from "../../src-main/engine/index.js";
import { ensureSyntheticModel } from "../../src-main/models/index.js";
import { alternateRounds, BENCH_PROMPT, greedyJob, parseSwarmBenchArgs, startLocalSwarm } from "../lib/local-swarm.js";
import { median, round } from "../lib/stats.js";

const { preset, maxTokens, rounds } = parseSwarmBenchArgs();
const log = (line: string) => console.log(line);

const made = await ensureSyntheticModel({ preset, seed: 1, quantization: "F32", peaky: true });
log(`model: ${preset} F32, ${(made.parameterCount / 1e6).toFixed(1)}M parameters; one worker process, 1 thread; requester and gateway in this process`);

const { worker, requester } = await startLocalSwarm({ preset, requesterHomePrefix: "inferswarm-bench-gateway-" });

const tokenizer = await loadModelTokenizer(made.path);
const apiKey = `sk-swarm-bench${"0".repeat(40)}`;
const gateway = await createOpenAiGateway({ scheduler: requester.scheduler, adverts: requester.adverts, tokenizers: [tokenizer], keys: [{ key: apiKey }], port: 0 });
const client = new OpenAI({ apiKey, baseURL: gateway.baseUrl, maxRetries: 0 });
// Both paths send exactly these tokens: the gateway takes a token prompt as it is.
const promptTokens = tokenizer.tokenizePrompt(BENCH_PROMPT);

interface Sample {
  ttftMs: number;
  tokensPerSecond: number;
  text: string;
  tokens: number;
}

async function throughGateway(): Promise<Sample> {
  const started = performance.now();
  const stream = await client.completions.create({ model: tokenizer.info.name, prompt: promptTokens, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let firstAt = 0;
  let tokens = 0;
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.text ?? "";
    if (piece && firstAt === 0) firstAt = performance.now();
    text += piece;
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  const now = performance.now();
  return { ttftMs: firstAt - started, tokensPerSecond: ((tokens - 1) * 1000) / (now - firstAt), text, tokens };
}

async function directly(): Promise<Sample> {
  const started = performance.now();
  const run = requester.scheduler.runJob(greedyJob(made.sha256, promptTokens, maxTokens));
  let text = "";
  let firstAt = 0;
  let tokens = 0;
  for await (const token of run) {
    if (token.text && firstAt === 0) firstAt = performance.now();
    text += token.text;
    tokens++;
  }
  await run.result;
  const now = performance.now();
  return { ttftMs: firstAt - started, tokensPerSecond: ((tokens - 1) * 1000) / (now - firstAt), text, tokens };
}

// Warm both paths and check they produce the same answer, else the comparison means nothing.
const [a, b] = [await throughGateway(), await directly()];
if (a.text !== b.text || a.tokens !== b.tokens) throw new Error("the gateway and the scheduler produced different greedy answers");

const { ratios, addedTtft, testedTps: gatewayTps, baselineTps: directTps, testedTtft: gatewayTtft, baselineTtft: directTtft } = await alternateRounds(rounds, throughGateway, directly);

log(`gateway:   ${median(gatewayTps).toFixed(1)} tok/s, first token after ${median(gatewayTtft).toFixed(1)} ms (medians of ${rounds}, ${a.tokens} tokens)`);
log(`scheduler: ${median(directTps).toFixed(1)} tok/s, first token after ${median(directTtft).toFixed(1)} ms`);
const line = {
  bench: "gateway",
  model: `${preset}-F32`,
  tokens: a.tokens,
  rounds,
  tps_ratio: round(median(ratios)),
  ttft_added_ms: round(median(addedTtft), 1),
  gateway_tps: round(median(gatewayTps), 1),
  scheduler_tps: round(median(directTps), 1),
  gateway_ttft_ms: round(median(gatewayTtft), 1),
  scheduler_ttft_ms: round(median(directTtft), 1),
};

await gateway.close();
await tokenizer.close();
await requester.stop();
await worker.stop();
console.log(JSON.stringify(line));
