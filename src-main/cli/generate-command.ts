import { existsSync } from "node:fs";
import { createLogger, InferSwarmError } from "../common/index.js";
import { createEngine } from "../engine/index.js";
import { ensureSyntheticModel, PRESET_NAMES, type SyntheticQuantization } from "../models/index.js";

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

/** A file path is used as is; a preset name is generated (once, then cached) by the models module. */
export async function resolveModelPath(model: string, quantization: string, seed: number, log: (line: string) => void): Promise<string> {
  if (existsSync(model)) return model;
  if (!(PRESET_NAMES as readonly string[]).includes(model)) {
    throw new InferSwarmError(
      "CLI_MODEL_NOT_FOUND",
      `No file '${model}' and no preset of that name; give a GGUF file path or one of: ${PRESET_NAMES.join(", ")}.`,
    );
  }
  if (!["F32", "F16", "Q8_0"].includes(quantization)) {
    throw new InferSwarmError("CLI_BAD_ARGUMENT", `--quantization must be F32, F16 or Q8_0, got '${quantization}'.`);
  }
  const started = performance.now();
  const made = await ensureSyntheticModel({ preset: model as (typeof PRESET_NAMES)[number], seed, quantization: quantization as SyntheticQuantization, peaky: true });
  log(`model: generated preset '${model}' ${quantization} (${(made.parameterCount / 1e6).toFixed(1)}M parameters, sha256 ${made.sha256.slice(0, 12)}) in ${((performance.now() - started) / 1000).toFixed(1)} s: ${made.path}`);
  return made.path;
}

export async function runGenerate(options: GenerateCommandOptions): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onSigint);
  const engine = await createEngine({ logger: createLogger({ level: process.env.INFERSWARM_LOG_LEVEL ?? "warn" }) });
  try {
    const path = await resolveModelPath(options.model, options.quantization, options.seedModel, log);
    const model = await engine.loadModel(path, { threads: options.threads ?? "calibrate", residence: options.pin ? "pinned" : "mmap", signal: controller.signal });
    const calibration = model.calibration?.measurements.map((m) => `${m.threads}t ${m.tokensPerSecond.toFixed(0)} tok/s`).join(", ");
    log(`engine: ${model.info.name} ${model.info.quantization}, weights ${model.loadMode.actual} (${model.loadMode.evidence}), ${model.threads} threads${calibration ? ` (measured: ${calibration})` : ""}`);
    const stream = model.generate({
      prompt: options.prompt,
      maxTokens: options.maxTokens,
      stop: options.stop,
      sampling: { temperature: options.temperature, topK: options.topK, topP: options.topP, seed: options.seed },
      signal: controller.signal,
    });
    if (!options.json) process.stdout.write(options.prompt);
    for await (const token of stream) {
      if (!options.json) process.stdout.write(token.text);
    }
    const result = await stream.result;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ model: model.info.name, sha256: model.info.sha256, ...result })}\n`);
    } else {
      process.stdout.write("\n");
      const decodeSeconds = (result.durationMs - (result.timeToFirstTokenMs ?? 0)) / 1000;
      const tokensPerSecond = result.generatedTokenCount > 1 ? (result.generatedTokenCount - 1) / decodeSeconds : 0;
      log(`done: ${result.tokens.length} tokens, finish ${result.finishReason}, first token ${result.timeToFirstTokenMs?.toFixed(1)} ms, ${tokensPerSecond.toFixed(0)} tok/s`);
    }
    await model.close();
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    await engine.close();
  }
}
