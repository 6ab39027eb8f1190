import { existsSync } from "node:fs";
import { ensureSyntheticModel, PRESET_NAMES, QUANTIZATIONS, type PresetName, type SyntheticQuantization } from "../models/index.js";
import { CliError } from "./cli-context.js";

export const isPresetName = (value: string): value is PresetName => (PRESET_NAMES as readonly string[]).includes(value);

/** A file path is used as is; a preset name is generated (once, then cached under .cache/models) by the models module. */
export async function resolveModelPath(model: string, options: { quantization?: string; seed?: number; log?: (line: string) => void } = {}): Promise<string> {
  if (existsSync(model)) return model;
  if (!isPresetName(model)) {
    throw new CliError("CLI_MODEL_NOT_FOUND", `No file '${model}' and no preset of that name; give a GGUF file path or one of: ${PRESET_NAMES.join(", ")}.`);
  }
  const quantization = options.quantization ?? "F32";
  if (!(QUANTIZATIONS as readonly string[]).includes(quantization)) {
    throw new CliError("CLI_BAD_ARGUMENT", `--quantization must be one of ${QUANTIZATIONS.join(", ")}, got '${quantization}'.`);
  }
  const started = performance.now();
  const made = await ensureSyntheticModel({ preset: model, seed: options.seed ?? 1, quantization: quantization as SyntheticQuantization, peaky: true });
  options.log?.(
    `model: ${made.fromCache ? "cached" : "generated"} preset '${model}' ${quantization} (${(made.parameterCount / 1e6).toFixed(1)}M parameters, sha256 ${made.sha256.slice(0, 12)}) in ${((performance.now() - started) / 1000).toFixed(1)} s: ${made.path}`,
  );
  return made.path;
}
