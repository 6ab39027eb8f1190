import type { Command } from "commander";
import { createEngine } from "../engine/index.js";
import { PRESET_NAMES } from "../models/index.js";
import { EXIT, type CliContext } from "./cli-context.js";
import { resolveModelPath } from "./model-argument.js";
import { collect, finiteNumber, positiveInt } from "./option-parsers.js";

export interface GenerateCommandOptions {
  model: string;
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed?: number;
  stop: string[];
  threads?: number;
  pin?: boolean;
  quantization: string;
  seedModel: number;
  json?: boolean;
}

export function registerGenerateCommand(program: Command, context: CliContext): void {
  program
    .command("generate")
    .summary("generate text locally with the engine (no swarm)")
    .description("Generate text locally with the engine (no swarm), printing tokens as they stream.")
    .requiredOption("-m, --model <file|preset>", `a GGUF file, or a generated model preset: ${PRESET_NAMES.join(", ")}`)
    .requiredOption("-p, --prompt <text>", "the prompt")
    .option("-n, --max-tokens <n>", "answer length limit", positiveInt("--max-tokens"), 64)
    .option("-t, --temperature <t>", "0 is greedy (deterministic)", finiteNumber("--temperature"), 0)
    .option("--top-k <k>", "sample among the k best tokens", positiveInt("--top-k"))
    .option("--top-p <p>", "nucleus sampling mass", finiteNumber("--top-p"))
    .option("--seed <n>", "seed for sampled output", finiteNumber("--seed"))
    .option("--stop <text>", "stop before this text (repeatable)", collect, [])
    .option("--threads <n>", "CPU threads (default: measured by a short calibration)", positiveInt("--threads"))
    .option("--pin", "copy the weights into locked RAM instead of memory-mapping the file")
    .option("--quantization <q>", "for presets: F32, F16 or Q8_0", "F32")
    .option("--seed-model <n>", "for presets: the weights' seed", positiveInt("--seed-model"), 1)
    .option("--json", "print one JSON object with the result instead of streaming text")
    .action(async (options: GenerateCommandOptions) => {
      context.exitCode = await runGenerate(options, context);
    });
}

export async function runGenerate(options: GenerateCommandOptions, context: CliContext): Promise<number> {
  const interruption = context.interruption();
  const { signal } = interruption;
  // A wrong model name fails before llama.cpp is started (about a second).
  const path = await resolveModelPath(options.model, { quantization: options.quantization, seed: options.seedModel, log: context.err }).catch((error: unknown) => {
    interruption.dispose();
    throw error;
  });
  const engine = await createEngine({ logger: context.logger().child({ module: "engine" }) });
  try {
    const model = await engine.loadModel(path, { threads: options.threads ?? "calibrate", residence: options.pin ? "pinned" : "mmap", signal });
    try {
      const calibration = model.calibration?.measurements.map((m) => `${m.threads}t ${m.tokensPerSecond.toFixed(0)} tok/s`).join(", ");
      context.err(`engine: ${model.info.name} ${model.info.quantization}, weights ${model.loadMode.actual} (${model.loadMode.evidence}), ${model.threads} threads${calibration ? ` (measured: ${calibration})` : ""}`);
      const stream = model.generate({
        prompt: options.prompt,
        maxTokens: options.maxTokens,
        stop: options.stop,
        sampling: { temperature: options.temperature, topK: options.topK, topP: options.topP, seed: options.seed },
        signal,
      });
      if (!options.json) context.io.stdout(options.prompt);
      for await (const token of stream) {
        if (!options.json) context.io.stdout(token.text);
      }
      const result = await stream.result;
      if (options.json) {
        context.out(JSON.stringify({ model: model.info.name, sha256: model.info.sha256, ...result }));
      } else {
        context.io.stdout("\n");
        const decodeSeconds = (result.durationMs - (result.timeToFirstTokenMs ?? 0)) / 1000;
        const tokensPerSecond = result.generatedTokenCount > 1 ? (result.generatedTokenCount - 1) / decodeSeconds : 0;
        context.err(`done: ${result.tokens.length} tokens, finish ${result.finishReason}, first token ${result.timeToFirstTokenMs?.toFixed(1)} ms, ${tokensPerSecond.toFixed(0)} tok/s`);
      }
    } finally {
      await model.close();
    }
    return EXIT.ok;
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  } finally {
    interruption.dispose();
    await engine.close();
  }
}
