import { InvalidArgumentError, Option, type Command } from "commander";
import { runLocalSwarmDemo } from "../demo/index.js";
import { PRESET_NAMES, type PresetName } from "../models/index.js";
import type { CliContext } from "./cli-context.js";
import { port, positiveInt } from "./option-parsers.js";

const atMost = (name: string, max: number) => (value: string) => {
  const n = positiveInt(name)(value);
  if (n > max) throw new InvalidArgumentError(`${name} must be at most ${max}.`);
  return n;
};
const seconds = (name: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number of seconds above 0.`);
  return n;
};

interface DemoCommandOptions {
  workers: number;
  preset: PresetName;
  duration?: number;
  concurrency?: number;
  home?: string;
  apiPort: number;
  dashboardPort: number;
  progressSeconds: number;
  json?: boolean;
}

/** `inferswarm demo`: the local swarm on loopback (src-main/demo), what `npm start` runs without Electron. */
export function registerDemoCommand(program: Command, context: CliContext): void {
  program
    .command("demo")
    .summary("run a local swarm on 127.0.0.1 with a generated model, and send it work")
    .description(
      "Run a local swarm on 127.0.0.1 with a generated model: worker nodes (each also validating the others), a gateway with the " +
        "OpenAI API and the dashboard, and OpenAI-style clients sending it work. Prints the dashboard address, the API key and progress. " +
        "Ctrl-C stops every node cleanly; their ledgers are kept for the next run.",
    )
    .option("--workers <n>", "worker nodes, 1 to 8", atMost("--workers", 8), 3)
    .addOption(new Option("--preset <name>", "the generated model the workers serve").choices(PRESET_NAMES).default("small"))
    .option("--duration <seconds>", "stop by itself after this long (default: run until Ctrl-C)", seconds("--duration"))
    .option("--concurrency <n>", "OpenAI clients sending at once (default: one per worker)", atMost("--concurrency", 64))
    .option("--home <dir>", "keep the demo nodes' identities and ledgers here (default: demo/ in the platform's data directory)")
    .option("--api-port <port>", "the gateway's OpenAI API port on 127.0.0.1 (0: any free port)", port("--api-port"), 0)
    .option("--dashboard-port <port>", "the gateway's dashboard port on 127.0.0.1 (0: any free port)", port("--dashboard-port"), 0)
    .option("--progress-seconds <s>", "seconds between progress lines", seconds("--progress-seconds"), 5)
    .option("--json", "also print machine-readable lines: demo-ready and demo-finished")
    .action(async (options: DemoCommandOptions) => {
      const interruption = context.interruption();
      const stopRequested = new Promise<string>((resolve) => {
        if (interruption.signal.aborted) resolve("Ctrl-C");
        interruption.signal.addEventListener("abort", () => resolve("Ctrl-C"), { once: true });
      });
      try {
        const { exitCode } = await runLocalSwarmDemo(
          {
            workers: options.workers,
            preset: options.preset,
            ...(options.duration !== undefined && { durationSeconds: options.duration }),
            ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
            ...(options.home !== undefined && { home: options.home }),
            apiPort: options.apiPort,
            dashboardPort: options.dashboardPort,
            progressSeconds: options.progressSeconds,
            json: options.json === true,
          },
          { out: context.out, logger: context.logger(), stopRequested },
        );
        context.exitCode = exitCode;
      } finally {
        interruption.dispose();
      }
    });
}
