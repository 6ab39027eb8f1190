/**
 * bench/swarm: one request through the swarm (a worker process and this process as requester, on
 * 127.0.0.1) vs the same greedy generation on the engine directly, in the same run. Reports the decode
 * tok/s ratio and the time to first token the swarm adds (dial, request, worker admission, frames).
 * Rounds alternate the order; ratios and differences are taken per round and their medians reported.
 * Last line: one JSON object.
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createEngine } from "../../src-main/engine/index.js";
import { ensureSyntheticModel, PRESET_NAMES, type PresetName } from "../../src-main/models/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode } from "../../src-main/node/index.js";
import { median, round } from "../lib/stats.js";

const { values: args } = parseArgs({
  options: {
    preset: { type: "string", default: "medium" },
    tokens: { type: "string", default: "256" },
    rounds: { type: "string", default: "9" },
  },
});
const preset = args.preset as PresetName;
if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
const maxTokens = Number(args.tokens);
const rounds = Number(args.rounds);
const prompt = "The swarm answers questions about the weather and the network";
const log = (line: string) => console.log(line);

const made = await ensureSyntheticModel({ preset, seed: 1, quantization: "F32", peaky: true });
log(`model: ${preset} F32, ${(made.parameterCount / 1e6).toFixed(1)}M parameters; worker and direct engine both use 1 thread`);

const worker = await spawnNodeProcess(["--model", preset, "--quantization", "F32", "--mode", "always", "--threads", "1", "--max-jobs", "1"]);
const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-bench-requester-"));
const requester = await startNode(parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [worker.addresses[0]!], mdns: false, hardware: false }), {
  paths: { configDir: home, dataDir: home },
});
const deadline = Date.now() + 30_000;
while (requester.adverts.freshAdverts().length === 0) {
  if (Date.now() > deadline) throw new Error("the worker's advert never arrived");
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const engine = await createEngine({ gpu: false });
const direct = await engine.loadModel(made.path, { threads: 1 });
const promptTokens = direct.tokenizePrompt(prompt);

interface Sample {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number[];
}

async function throughSwarm(): Promise<Sample> {
  const started = performance.now();
  const run = requester.scheduler.runJob({
    type: "request",
    jobId: `bench-${Math.random().toString(36).slice(2, 12)}`,
    modelSha256: made.sha256,
    prompt: { tokens: promptTokens },
    sampling: { temperature: 0 },
    maxTokens,
    stop: [],
  });
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

const ratios: number[] = [];
const addedTtft: number[] = [];
const swarmTps: number[] = [];
const directTps: number[] = [];
const swarmTtft: number[] = [];
const directTtft: number[] = [];
for (let r = 0; r < rounds; r++) {
  const swarmFirst = r % 2 === 0;
  const first = swarmFirst ? await throughSwarm() : await directly();
  const second = swarmFirst ? await directly() : await throughSwarm();
  const [s, d] = swarmFirst ? [first, second] : [second, first];
  ratios.push(s.tokensPerSecond / d.tokensPerSecond);
  addedTtft.push(s.ttftMs - d.ttftMs);
  swarmTps.push(s.tokensPerSecond);
  directTps.push(d.tokensPerSecond);
  swarmTtft.push(s.ttftMs);
  directTtft.push(d.ttftMs);
}

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
