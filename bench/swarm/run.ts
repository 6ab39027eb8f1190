/**
 * bench/swarm: one request through the swarm (a worker process and this process as requester, on
 * 127.0.0.1) vs the same greedy generation on the engine directly, in the same run. Reports the decode
 * tok/s ratio and the time to first token the swarm adds (dial, request, worker admission, frames).
 * Rounds alternate the order; ratios and differences are taken per round and their medians reported.
 * Last line: one JSON object.
 */
import { createEngine } from "../../src-main/engine/index.js";
import { ensureSyntheticModel } from "../../src-main/models/index.js";
import { alternateRounds, BENCH_PROMPT, greedyJob, parseSwarmBenchArgs, startLocalSwarm } from "../lib/local-swarm.js";
import { median, round } from "../lib/stats.js";

const { preset, maxTokens, rounds } = parseSwarmBenchArgs();
const log = (line: string) => console.log(line);

const made = await ensureSyntheticModel({ preset, seed: 1, quantization: "F32", peaky: true });
log(`model: ${preset} F32, ${(made.parameterCount / 1e6).toFixed(1)}M parameters; worker and direct engine both use 1 thread`);

const { worker, requester } = await startLocalSwarm({ preset, requesterHomePrefix: "inferswarm-bench-requester-" });

const engine = await createEngine({ gpu: false });
const direct = await engine.loadModel(made.path, { threads: 1 });
const promptTokens = direct.tokenizePrompt(BENCH_PROMPT);

interface Sample {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number[];
}

async function throughSwarm(): Promise<Sample> {
  const started = performance.now();
  const run = requester.scheduler.runJob(greedyJob(made.sha256, promptTokens, maxTokens));
  const tokens: number[] = [];
  let firstAt = 0;
  for await (const token of run) {
    if (tokens.length === 0) firstAt = performance.now();
    tokens.push(token.tokenId);
  }
  await run.result;
  return { ttftMs: firstAt - started, tokensPerSecond: ((tokens.length - 1) * 1000) / (performance.now() - firstAt), tokens };
}

const directAllIn: number[] = [];

async function directly(): Promise<Sample> {
  const started = performance.now();
  const tokens: number[] = [];
  let firstAt = 0;
  for await (const token of direct.generate({ prompt: { tokens: promptTokens }, maxTokens })) {
    if (tokens.length === 0) firstAt = performance.now();
    tokens.push(token.tokenId);
  }
  const now = performance.now();
  directAllIn.push((tokens.length * 1000) / (now - started));
  return { ttftMs: firstAt - started, tokensPerSecond: ((tokens.length - 1) * 1000) / (now - firstAt), tokens };
}

/** The worker's own view of each job ("job … N tokens in D ms"): separates its speed from the transport's. */
function workerAllInRates(): number[] {
  return worker.output.flatMap((line) => {
    const match = /^job \S+ from \S+: end, (\d+) tokens in (\d+) ms/.exec(line);
    return match ? [(Number(match[1]) * 1000) / Number(match[2])] : [];
  });
}

// Warm both paths and check they produce the same answer, else the comparison means nothing.
const [a, b] = [await throughSwarm(), await directly()];
if (JSON.stringify(a.tokens) !== JSON.stringify(b.tokens)) throw new Error("the swarm and the engine produced different greedy answers");

const { ratios, addedTtft, testedTps: swarmTps, baselineTps: directTps, testedTtft: swarmTtft, baselineTtft: directTtft } = await alternateRounds(rounds, throughSwarm, directly);

log(`swarm:  ${median(swarmTps).toFixed(1)} tok/s, first token after ${median(swarmTtft).toFixed(1)} ms (medians of ${rounds}, ${a.tokens.length} tokens)`);
log(`direct: ${median(directTps).toFixed(1)} tok/s, first token after ${median(directTtft).toFixed(1)} ms`);
// Jobs on the worker include prompt evaluation, like the direct all-in rate they are compared with.
const workerRates = workerAllInRates().slice(-rounds);
const workerSideRatio = workerRates.length > 0 ? median(workerRates) / median(directAllIn.slice(-rounds)) : Number.NaN;
log(`worker: its own all-in rate ${median(workerRates).toFixed(1)} tok/s vs direct all-in ${median(directAllIn).toFixed(1)} (ratio ${workerSideRatio.toFixed(3)}): the part of the gap that is the worker process itself`);
const line = {
  bench: "swarm",
  model: `${preset}-F32`,
  tokens: a.tokens.length,
  tps_ratio: round(median(ratios)),
  ttft_added_ms: round(median(addedTtft), 1),
  swarm_tps: round(median(swarmTps), 1),
  direct_tps: round(median(directTps), 1),
  worker_side_ratio: round(workerSideRatio),
};

await engine.close();
await requester.stop();
await worker.stop();
console.log(JSON.stringify(line));
