import type { Command } from "commander";
import { PRESET_NAMES } from "../models/index.js";
import { parseNodeConfig } from "../node/index.js";
import { CliError, describeHome, nodePathsFor, type CliContext } from "./cli-context.js";
import { resolveModelPath } from "./model-argument.js";
import { addNetworkOptions, networkOverlay, overlaySection, printConfig, readConfigFile, runNetworkNode, type NetworkOptions } from "./node-command.js";
import { collect, positiveInt } from "./option-parsers.js";

export interface GatewayCommandOptions extends NetworkOptions {
  model: string[];
  quantization?: string;
  seedModel: number;
}

export function registerGatewayCommand(program: Command, context: CliContext): void {
  const command = program
    .command("gateway")
    .summary("run an OpenAI-compatible API that routes requests into the swarm (serves no model)")
    .description(
      "Run an OpenAI-compatible API on 127.0.0.1 that routes every request into the swarm: a node that serves no model itself. " +
        "It tokenizes, so it needs each model's GGUF file (or a preset, generated here). Stops cleanly on Ctrl-C.",
    )
    .option("-m, --model <file.gguf|preset>", `a model the API offers (repeatable): a GGUF file, or a generated preset (${PRESET_NAMES.join(", ")})`, collect, [])
    .option("--quantization <q>", "for presets: F32, F16 or Q8_0", "F32")
    .option("--seed-model <n>", "for presets: the weights' seed (workers must serve the same one)", positiveInt("--seed-model"), 1);
  addNetworkOptions(command).action(async (options: GatewayCommandOptions) => {
    context.exitCode = await runGatewayCommand(options, context);
  });
}

export async function runGatewayCommand(options: GatewayCommandOptions, context: CliContext): Promise<number> {
  const paths = nodePathsFor(options.home);
  const { file, fileConfig } = await readConfigFile(options, paths);
  const models: string[] = [];
  for (const model of options.model) models.push(await resolveModelPath(model, { quantization: options.quantization, seed: options.seedModel, log: context.err }));
  const fileApi = (fileConfig.api ?? {}) as { models?: unknown };
  const fileModels = Array.isArray(fileApi.models) ? fileApi.models : [];
  if (models.length === 0 && fileModels.length === 0) {
    throw new CliError(
      "CLI_GATEWAY_NO_MODELS",
      `The gateway has no model to offer: give --model <file.gguf|preset> (repeatable), or list GGUF files under "api": {"models": [...]} in ${file}.`,
    );
  }
  const config = parseNodeConfig(
    {
      ...fileConfig,
      ...networkOverlay(fileConfig, options),
      // A gateway computes nothing: no models served, so no GPU telemetry, policy or game detection either.
      serve: [],
      hardware: false,
      ...overlaySection(fileConfig, "api", { enabled: true, port: options.apiPort, models: models.length ? models : undefined }),
    },
    `${file} with the command-line flags`,
  );
  if (options.printConfig) return printConfig(file, config, context);
  return runNetworkNode("gateway", config, paths, describeHome(options.home, paths), options.readyJson ?? false, context);
}
