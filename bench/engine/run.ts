/**
 * bench/engine: our engine vs node-llama-cpp called directly, same model, same settings, same run.
 * - decode: greedy tok/s (from the first answer token to the last, so every side pays the same prompt eval);
 * - scoring: teacher-forced tok/s (one batched controlledEvaluate pass over prompt + answer);
 * - the memory-bandwidth bound: bytes of weights read per token × tok/s over measured read bandwidth.
 * Two independent direct instances run beside the engine: their ratio (`control_ratio`) is the noise floor
 * of this machine for the comparison. Each round runs every side back to back in a rotating order and the
 * ratios are taken per round (speed drifts by ±10% over a minute here), then their median is reported.
 * Last line: one JSON object.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem, type Token } from "node-llama-cpp";
import { createEngine } from "../../src-main/engine/index.js";
import { ensureSyntheticModel, inspectGgufFile, PRESET_NAMES, type PresetName, type SyntheticQuantization } from "../../src-main/models/index.js";
import { measureReadBandwidth } from "./memory-bandwidth.js";
import { median, round } from "../lib/stats.js";

const { values: args } = parseArgs({
  options: {
    preset: { type: "string", default: "medium" },
    quantization: { type: "string", default: "F32" },
    tokens: { type: "string", default: "256" },
    rounds: { type: "string", default: "15" },
    threads: { type: "string" },
  },
});
const preset = args.preset as PresetName;
if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
const quantization = args.quantization as SyntheticQuantization;
const answerTokens = Number(args.tokens);
const rounds = Number(args.rounds);
const prompt = "The swarm answers questions about the weather and the network";
const TOP_K = 8;

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
const promptTokens = ours.tokenizePrompt(prompt) as Token[];

interface Side {
  decode(): Promise<{ tokens: number[]; decodeMs: number }>;
  score(claimed: readonly number[]): Promise<number>;
  close(): Promise<void>;
}

/** node-llama-cpp used as its documentation shows, with the engine's settings. */
async function directSide(): Promise<Side> {
  const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: os.availableParallelism(), logLevel: LlamaLogLevel.warn });
  const model = await llama.loadModel({ modelPath: made.path });
  const context = await model.createContext({ contextSize: ours.contextSize, sequences: 1, threads, flashAttention: false });
  const sequence = context.getSequence();
  return {
    async decode() {
      await sequence.clearHistory();
      const tokens: number[] = [];
      let firstAt = 0;
      for await (const token of sequence.evaluate(promptTokens, { temperature: 0, yieldEogToken: true })) {
        if (tokens.length === 0) firstAt = performance.now();
        if (model.isEogToken(token)) break;
        tokens.push(token);
        if (tokens.length >= answerTokens) break;
      }
      return { tokens, decodeMs: performance.now() - firstAt };
    },
    async score(claimed) {
      const started = performance.now(); // clearing the sequence is part of every job, on every side
      await sequence.clearHistory();
      const feed = [...promptTokens, ...(claimed.slice(0, -1) as Token[])];
      const input: ControlledEvaluateInputItem[] = feed.map((token, i) =>
        i < promptTokens.length - 1
          ? token
          : [token, { generateNext: { logits: { filter: { tokens: [claimed[i - promptTokens.length + 1] as Token], includeTop: TOP_K, includeMax: true } }, totalLogitWeight: true } }],
      );
      await sequence.controlledEvaluate(input);
      return performance.now() - started;
    },
    async close() {
      await context.dispose();
      await model.dispose();
    },
  };
}

const engineSide: Side = {
  async decode() {
    const tokens: number[] = [];
    let firstAt = 0;
    for await (const token of ours.generate({ prompt: { tokens: promptTokens }, maxTokens: answerTokens })) {
      if (tokens.length === 0) firstAt = performance.now();
      tokens.push(token.tokenId);
    }
    return { tokens, decodeMs: performance.now() - firstAt };
  },
  async score(claimed) {
    const started = performance.now();
    await ours.score({ promptTokens, claimedTokens: claimed, topK: TOP_K });
    return performance.now() - started;
  },
  close: () => engine.close(),
};

const sides = { engine: engineSide, direct: await directSide(), control: await directSide() };
type SideName = keyof typeof sides;
const names = Object.keys(sides) as SideName[];

// Warm every side once, and check that they compute the same thing before timing them.
const reference = await sides.direct.decode();
for (const name of names) {
  const { tokens } = await sides[name].decode();
  if (JSON.stringify(tokens) !== JSON.stringify(reference.tokens)) throw new Error(`${name} produced different greedy tokens than direct node-llama-cpp; the comparison would be meaningless`);
}
const n = reference.tokens.length;

const decodeTps: Record<SideName, number[]> = { engine: [], direct: [], control: [] };
const scoreTps: Record<SideName, number[]> = { engine: [], direct: [], control: [] };
for (let r = 0; r < rounds; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]!);
  for (const name of order) decodeTps[name].push(((n - 1) * 1000) / (await sides[name].decode()).decodeMs);
  for (const name of order) scoreTps[name].push((n * 1000) / (await sides[name].score(reference.tokens)));
}
const pairedRatio = (samples: Record<SideName, number[]>, a: SideName, b: SideName) => median(samples[a].map((x, i) => x / samples[b][i]!));

const bandwidth = measureReadBandwidth();
const engineDecode = median(decodeTps.engine);
const boundTps = bandwidth.bytesPerSecond / bytesPerToken;
const line = {
  bench: "engine",
  model: `${preset}-${quantization}`,
  threads,
  tokens: n,
  decode_ratio: round(pairedRatio(decodeTps, "engine", "direct")),
  score_ratio: round(pairedRatio(scoreTps, "engine", "direct")),
  control_decode_ratio: round(pairedRatio(decodeTps, "control", "direct")),
  score_vs_generate: round(median(scoreTps.engine) / engineDecode),
  bandwidth_fraction: round(engineDecode / boundTps),
  decode_tps: round(engineDecode, 1),
  direct_decode_tps: round(median(decodeTps.direct), 1),
  bandwidth_gb_s: round(bandwidth.bytesPerSecond / 1e9, 1),
};
log(`decode:  engine ${engineDecode.toFixed(1)} tok/s, direct ${median(decodeTps.direct).toFixed(1)}, control ${median(decodeTps.control).toFixed(1)} (medians of ${rounds} rounds of ${n} tokens)`);
log(`         paired ratios: engine/direct ${line.decode_ratio}, control/direct ${line.control_decode_ratio} (the noise floor)`);
log(`scoring: engine ${median(scoreTps.engine).toFixed(1)} tok/s, direct ${median(scoreTps.direct).toFixed(1)} (one batched pass over ${n} claimed tokens); engine/direct ${line.score_ratio}`);
log(`memory:  read bandwidth ${(bandwidth.bytesPerSecond / 1e9).toFixed(1)} GB/s → bound ${boundTps.toFixed(0)} tok/s at ${(bytesPerToken / 2 ** 20).toFixed(1)} MiB per token`);

const resultsDir = path.join(import.meta.dirname, "../results");
await mkdir(resultsDir, { recursive: true });
await writeFile(path.join(resultsDir, `engine-${preset}-${quantization}.json`), `${JSON.stringify({ ...line, decodeTps, scoreTps }, null, 2)}\n`);
for (const name of names) await sides[name].close();
console.log(JSON.stringify(line));
