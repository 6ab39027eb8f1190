import type { Command } from "commander";
import { createEngine, type LoadedModel } from "../engine/index.js";
import { runNodeCalibration, type JsonStore } from "../hardware/index.js";
import { PRESET_NAMES } from "../models/index.js";
import { EXIT, type CliContext } from "./cli-context.js";
import { resolveModelPath } from "./model-argument.js";
import { positiveInt } from "./option-parsers.js";

export interface BenchCommandOptions {
  model: string;
  quantization: string;
  seedModel: number;
  runs: number;
  warmup: number;
  maxTokens: number;
  threads?: number;
}

/** The defaults are the real measurement (about a minute here); tests pass the smallest settings. */
export const BENCH_DEFAULTS = { model: "small", runs: 5, warmup: 1, maxTokens: 128 } as const;

export function registerBenchCommand(program: Command, context: CliContext): void {
  program
    .command("bench")
    .summary("measure this machine's decode speed on a model (JSON line)")
    .description(
      "Measure this machine's greedy decode speed (tok/s) on one model, as the node's calibration does: the engine first measures the best thread count, " +
        "then runs warm-up and measured generations; prints a summary on stderr and one JSON line on stdout. " +
        "The comparative benchmarks (engine, swarm, gateway, trust) are in a source checkout: npm run bench:engine, bench:swarm, bench:gateway, bench:trust.",
    )
    .option("-m, --model <file|preset>", `a GGUF file or a generated preset (${PRESET_NAMES.join(", ")})`, BENCH_DEFAULTS.model)
    .option("--quantization <q>", "for presets: F32, F16 or Q8_0", "F32")
    .option("--seed-model <n>", "for presets: the weights' seed", positiveInt("--seed-model"), 1)
    .option("--runs <n>", "measured runs (the median is reported, with min and max)", positiveInt("--runs"), BENCH_DEFAULTS.runs)
    .option("--warmup <n>", "unreported runs first", (value: string) => (value === "0" ? 0 : positiveInt("--warmup")(value)), BENCH_DEFAULTS.warmup)
    .option("--max-tokens <n>", "tokens per run (at least 2)", positiveInt("--max-tokens"), BENCH_DEFAULTS.maxTokens)
    .option("--threads <n>", "CPU threads (default: measured, as the node does)", positiveInt("--threads"))
    .action(async (options: BenchCommandOptions) => {
      context.exitCode = await runBench(options, context);
    });
}

export async function runBench(options: BenchCommandOptions, context: CliContext): Promise<number> {
  const file = await resolveModelPath(options.model, { quantization: options.quantization, seed: options.seedModel, log: context.err });
  const engine = await createEngine({ logger: context.logger().child({ module: "engine" }) });
  let loaded: LoadedModel | undefined;
  try {
    const calibration = await runNodeCalibration({
      engine: {
        describe: () => engine.describe(),
        loadModel: async (path) => (loaded = await engine.loadModel(path, { threads: options.threads ?? "calibrate" })),
      },
      referenceModelPath: file,
      // A bench measures; it does not replace the node's stored calibration.
      store: memoryStore(),
      runs: options.runs,
      warmupRuns: options.warmup,
      maxTokens: options.maxTokens,
    });
    const threadTrials = loaded?.calibration?.measurements.map((m) => ({ threads: m.threads, tokensPerSecond: m.tokensPerSecond })) ?? null;
    context.err(
      `bench: ${calibration.modelName} (${calibration.modelSha256.slice(0, 12)}) on ${calibration.machine.cpuModel}, ${calibration.threads} thread(s)` +
        `${threadTrials ? ` (measured: ${threadTrials.map((t) => `${t.threads}t ${t.tokensPerSecond.toFixed(0)} tok/s`).join(", ")})` : " (as given)"}: ` +
        `decode ${calibration.decodeTokensPerSecond.toFixed(1)} tok/s median (min ${calibration.decodeTokensPerSecondMin.toFixed(1)}, max ${calibration.decodeTokensPerSecondMax.toFixed(1)}) over ${options.runs} run(s) of ${options.maxTokens} tokens` +
        `${calibration.prefillTokensPerSecond === null ? "" : `, prompt ${calibration.prefillTokensPerSecond.toFixed(0)} tok/s`}`,
    );
    context.out(
      JSON.stringify({
        bench: "inferswarm-bench",
        model: { path: file, name: calibration.modelName, sha256: calibration.modelSha256 },
        machine: calibration.machine,
        settings: { runs: options.runs, warmup: options.warmup, maxTokens: options.maxTokens, threads: options.threads ?? "calibrate" },
        threads: calibration.threads,
        threadTrials,
        decodeTokensPerSecond: calibration.decodeTokensPerSecond,
        decodeTokensPerSecondMin: calibration.decodeTokensPerSecondMin,
        decodeTokensPerSecondMax: calibration.decodeTokensPerSecondMax,
        prefillTokensPerSecond: calibration.prefillTokensPerSecond,
        runs: calibration.runs,
        measuredAt: new Date(calibration.measuredAt).toISOString(),
      }),
    );
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

function memoryStore(): JsonStore {
  const values = new Map<string, unknown>();
  return {
    read: async (key) => values.get(key),
    write: async (key, value) => void values.set(key, value),
  };
}
