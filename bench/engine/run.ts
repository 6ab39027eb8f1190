/**
 * bench/engine: our engine vs node-llama-cpp called directly, same model, same settings, same run.
 * - decode: greedy tok/s (time from the first answer token to the last, so both pay the same prompt eval);
 * - scoring: teacher-forced tok/s (one batched controlledEvaluate pass over prompt + answer);
 * - the memory-bandwidth bound: bytes of weights read per token × tok/s over measured read bandwidth.
 * Rounds alternate A/B and medians are compared, because this machine's timings wander by ±30%.
 * Last line: one JSON object.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem, type LlamaModel, type Token } from "node-llama-cpp";
import { createEngine } from "../../src-main/engine/index.js";
import { ensureSyntheticModel, inspectGgufFile, PRESET_NAMES, type PresetName, type SyntheticQuantization } from "../../src-main/models/index.js";
import { measureReadBandwidth } from "./memory-bandwidth.js";

const { values: args } = parseArgs({
  options: {
    preset: { type: "string", default: "medium" },
    quantization: { type: "string", default: "F32" },
    tokens: { type: "string", default: "128" },
    rounds: { type: "string", default: "9" },
    threads: { type: "string" },
  },
});
const preset = args.preset as PresetName;
if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
const quantization = args.quantization as SyntheticQuantization;
const answerTokens = Number(args.tokens);
const rounds = Number(args.rounds);
const prompt = "The swarm answers questions about the weather and the network";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (line: string) => console.log(line);

const made = await ensureSyntheticModel({ preset, seed: 1, quantization, peaky: true });
const summary = await inspectGgufFile(made.path);
// Per decoded token llama.cpp reads every weight once, except the embedding table (one row).
const bytesPerToken = summary.tensors.filter((t) => t.name !== "token_embd.weight").reduce((sum, t) => sum + t.byteSize, 0);
log(`model: ${preset} ${quantization}, ${(made.parameterCount / 1e6).toFixed(1)}M parameters, ${(made.fileSize / 2 ** 20).toFixed(1)} MiB, ${(bytesPerToken / 2 ** 20).toFixed(1)} MiB read per token`);

const engine = await createEngine({ gpu: false });
const ours = await engine.loadModel(made.path, { threads: args.threads ? Number(args.threads) : "calibrate" });
const threads = ours.threads;
log(`threads: ${threads}${ours.calibration ? ` (calibrated: ${ours.calibration.measurements.map((m) => `${m.threads}t=${m.tokensPerSecond.toFixed(0)} tok/s`).join(", ")})` : ""}`);

const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: os.availableParallelism(), logLevel: LlamaLogLevel.warn });
const directModel: LlamaModel = await llama.loadModel({ modelPath: made.path });
const directContext = await directModel.createContext({ contextSize: ours.contextSize, sequences: 1, threads, flashAttention: false });
const directSequence = directContext.getSequence();

const promptTokens = ours.tokenizePrompt(prompt) as Token[];

async function directDecode(): Promise<{ tokens: number[]; decodeMs: number }> {
  await directSequence.clearHistory();
  const tokens: number[] = [];
  let firstAt = 0;
  for await (const token of directSequence.evaluate(promptTokens, { temperature: 0, yieldEogToken: true })) {
    if (tokens.length === 0) firstAt = performance.now();
    if (directModel.isEogToken(token)) break;
    tokens.push(token);
    if (tokens.length >= answerTokens) break;
  }
  return { tokens, decodeMs: performance.now() - firstAt };
}

async function engineDecode(): Promise<{ tokens: number[]; decodeMs: number }> {
  const tokens: number[] = [];
  let firstAt = 0;
  for await (const token of ours.generate({ prompt: { tokens: promptTokens }, maxTokens: answerTokens })) {
    if (tokens.length === 0) firstAt = performance.now();
    tokens.push(token.tokenId);
  }
  return { tokens, decodeMs: performance.now() - firstAt };
}

async function directScore(claimed: Token[]): Promise<number> {
  const started = performance.now(); // clearing the sequence is part of every job, on both sides
  await directSequence.clearHistory();
  const feed = [...promptTokens, ...claimed.slice(0, -1)];
  const input: ControlledEvaluateInputItem[] = feed.map((token, i) =>
    i < promptTokens.length - 1
      ? token
      : [token, { generateNext: { logits: { filter: { tokens: [claimed[i - promptTokens.length + 1]!], includeTop: 8, includeMax: true } }, totalLogitWeight: true } }],
  );
  await directSequence.controlledEvaluate(input);
  return performance.now() - started;
}

async function engineScore(claimed: number[]): Promise<number> {
  const started = performance.now();
  await ours.score({ promptTokens, claimedTokens: claimed, topK: 8 });
  return performance.now() - started;
}

// Warm both paths once (page cache, allocator), then alternate.
const reference = await directDecode();
const check = await engineDecode();
if (JSON.stringify(reference.tokens) !== JSON.stringify(check.tokens)) {
  throw new Error("the engine and direct node-llama-cpp produced different greedy tokens; the comparison would be meaningless");
}
const n = reference.tokens.length;
const samples = { directDecode: [] as number[], engineDecode: [] as number[], directScore: [] as number[], engineScore: [] as number[] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ["direct", "engine"] : ["engine", "direct"];
  for (const side of order) {
    if (side === "direct") {
      samples.directDecode.push(((n - 1) * 1000) / (await directDecode()).decodeMs);
      samples.directScore.push((n * 1000) / (await directScore(reference.tokens as Token[])));
    } else {
      samples.engineDecode.push(((n - 1) * 1000) / (await engineDecode()).decodeMs);
      samples.engineScore.push((n * 1000) / (await engineScore(reference.tokens)));
    }
  }
}

const bandwidth = measureReadBandwidth();
const result = {
  engineDecodeTps: median(samples.engineDecode),
  directDecodeTps: median(samples.directDecode),
  engineScoreTps: median(samples.engineScore),
  directScoreTps: median(samples.directScore),
};
const boundTps = bandwidth.bytesPerSecond / bytesPerToken;
log(`decode:  engine ${result.engineDecodeTps.toFixed(1)} tok/s, direct ${result.directDecodeTps.toFixed(1)} tok/s (median of ${rounds}, ${n} tokens)`);
log(`scoring: engine ${result.engineScoreTps.toFixed(1)} tok/s, direct ${result.directScoreTps.toFixed(1)} tok/s (one batched pass over ${n} claimed tokens)`);
log(`memory:  read bandwidth ${(bandwidth.bytesPerSecond / 1e9).toFixed(1)} GB/s → bound ${boundTps.toFixed(0)} tok/s for ${(bytesPerToken / 2 ** 20).toFixed(1)} MiB per token`);

const summaryLine = {
  bench: "engine",
  model: `${preset}-${quantization}`,
  threads,
  tokens: n,
  decode_ratio: round(result.engineDecodeTps / result.directDecodeTps),
  score_ratio: round(result.engineScoreTps / result.directScoreTps),
  score_vs_generate: round(result.engineScoreTps / result.engineDecodeTps),
  bandwidth_fraction: round(result.engineDecodeTps / boundTps),
  decode_tps: round(result.engineDecodeTps, 1),
  direct_decode_tps: round(result.directDecodeTps, 1),
  bandwidth_gb_s: round(bandwidth.bytesPerSecond / 1e9, 1),
};
await mkdir(path.join(import.meta.dirname, "../results"), { recursive: true });
await writeFile(path.join(import.meta.dirname, "../results", `engine-${preset}-${quantization}.json`), `${JSON.stringify({ ...summaryLine, samples }, null, 2)}\n`);

await directContext.dispose();
await directModel.dispose();
await engine.close();
console.log(JSON.stringify(summaryLine));

function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}
