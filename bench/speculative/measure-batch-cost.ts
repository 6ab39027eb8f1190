/**
 * How much a batched verify pass of k+1 tokens costs next to one decoded token, for the verifier (F32)
 * and the draft (Q8_0) of one synthetic preset. Speculation pays only when this ratio is small.
 * Usage: tsx bench/speculative/measure-batch-cost.ts [--preset medium] [--repeats 20]
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem, type LlamaContextSequence, type Token } from "node-llama-cpp";
import { ensureSyntheticModel, PRESET_NAMES, type PresetName, type SyntheticQuantization } from "../../src-main/models/index.js";
import { median, round } from "../lib/stats.js";

const { values: args } = parseArgs({ options: { preset: { type: "string", default: "medium" }, repeats: { type: "string", default: "20" } } });
const preset = args.preset as PresetName;
if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
const repeats = Number(args.repeats);
const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: os.availableParallelism(), logLevel: LlamaLogLevel.warn });

async function measure(quantization: SyntheticQuantization): Promise<Record<string, number>> {
  const made = await ensureSyntheticModel({ preset, seed: 1, quantization, peaky: true });
  const model = await llama.loadModel({ modelPath: made.path });
  const context = await model.createContext({ contextSize: 1024, sequences: 1, threads: 1, flashAttention: false });
  const sequence: LlamaContextSequence = context.getSequence();
  const prompt = model.tokenize("The swarm answers questions about the weather", false) as Token[];
  await sequence.evaluateWithoutGeneratingNewTokens(prompt);
  const base = sequence.nextTokenIndex;
  const costs: Record<string, number> = {};
  for (const batch of [1, 2, 3, 5, 9, 13, 17]) {
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const input: ControlledEvaluateInputItem[] = Array.from({ length: batch }, (_, i) => [(100 + ((r * 7 + i) % 500)) as Token, { generateNext: { token: true, options: { temperature: 0 } } }]);
      const started = performance.now();
      await sequence.controlledEvaluate(input);
      times.push(performance.now() - started);
      await sequence.eraseContextTokenRanges([{ start: base, end: sequence.nextTokenIndex }]);
    }
    costs[`batch${batch}_ms`] = round(median(times), 2);
  }
  // The library's own one-token decode loop, for the plain-decoding reference.
  const generated: number[] = [];
  const started = performance.now();
  for await (const token of sequence.evaluate([prompt.at(-1)!], { temperature: 0 })) {
    generated.push(token);
    if (generated.length >= 64) break;
  }
  costs.evaluate_loop_ms_per_token = round((performance.now() - started) / generated.length, 2);
  await context.dispose();
  await model.dispose();
  return costs;
}

const result = { bench: "speculative-batch-cost", preset, f32: await measure("F32"), q8_0: await measure("Q8_0") };
console.log(JSON.stringify(result));
