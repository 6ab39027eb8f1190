import { Command, InvalidArgumentError } from "commander";
import { isInferSwarmError } from "../common/index.js";
import { runGenerate } from "./generate-command.js";
import { runNodeCommand, type NodeCommandDeps } from "./node-command.js";

/** Builds the `inferswarm` command line; `runCli` parses and runs it. */
/** What a caller may swap in (tests and bench/trust start dishonest workers through it). */
export interface CliDeps {
  startNodeDeps?: NodeCommandDeps;
}

export function buildProgram(deps: CliDeps = {}): Command {
  const program = new Command()
  .name("inferswarm")
  .description("InferSwarm: lend an idle GPU to a peer-to-peer LLM inference swarm.")
  .showHelpAfterError("(run with --help for usage)");

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
  return n;
};
const nonNegativeInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`${name} must be a port number (0 to 65535).`);
  return n;
};
const number = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number.`);
  return n;
};
const fraction = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1.`);
  return n;
};
const nonNegativeNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number, 0 or more.`);
  return n;
};
const collect = (value: string, previous: string[]) => [...previous, value];

  program
  .command("generate")
  .description("Generate text locally with the engine, printing tokens as they stream.")
  .requiredOption("-m, --model <file|preset>", "a GGUF file, or a generated model preset: tiny, small, medium, large")
  .requiredOption("-p, --prompt <text>", "the prompt")
  .option("-n, --max-tokens <n>", "answer length limit", positiveInt("--max-tokens"), 64)
  .option("-t, --temperature <t>", "0 is greedy (deterministic)", number("--temperature"), 0)
  .option("--top-k <k>", "sample among the k best tokens", positiveInt("--top-k"))
  .option("--top-p <p>", "nucleus sampling mass", number("--top-p"))
  .option("--seed <n>", "seed for sampled output", number("--seed"))
  .option("--stop <text>", "stop before this text (repeatable)", collect, [])
  .option("--threads <n>", "CPU threads (default: measured by a short calibration)", positiveInt("--threads"))
  .option("--pin", "copy the weights into locked RAM instead of memory-mapping the file")
  .option("--quantization <q>", "for presets: F32, F16 or Q8_0", "F32")
  .option("--seed-model <n>", "for presets: the weights' seed", positiveInt("--seed-model"), 1)
  .option("--json", "print one JSON object with the result instead of streaming text")
  .action(async (options) => {
    process.exitCode = await runGenerate(options);
  });

  program
    .command("node")
    .description("Run a headless node: serve models to the swarm when the policy allows, and route jobs.")
    .option("-c, --config <file>", "node config (JSON); default: node.json in the platform's config directory")
    .option("--listen <multiaddr>", "listen address (repeatable), e.g. /ip4/0.0.0.0/tcp/4001", collect, [])
    .option("--bootstrap <multiaddr>", "peer to join through, with /p2p/<id> (repeatable)", collect, [])
    .option("--no-mdns", "no LAN discovery (multicast)")
    .option("--swarm-key <file>", "join a private swarm with this pre-shared key file")
    .option("-m, --model <preset|file.gguf>", "serve this model (repeatable): a GGUF file or tiny/small/medium/large", collect, [])
    .option("--quantization <q>", "for presets: F32, F16 or Q8_0")
    .option("--price <credits>", "price per 1k tokens", number("--price"))
    .option("--max-jobs <n>", "jobs at once per model", positiveInt("--max-jobs"))
    .option("--threads <n>", "CPU threads (default: measured)", positiveInt("--threads"))
    .option("--mode <mode>", "contribution mode: always, when-idle, schedule, paused")
    .option("--no-hardware", "skip GPU telemetry and game detection")
    .option("--home <dir>", "keep config and data under this folder (several nodes on one machine)")
    .option("--ready-json", "print one JSON line with peer id and addresses once started (for scripts)")
    .option("--dashboard-port <port>", "serve the dashboard on 127.0.0.1:<port> (0: any free port; default 7480)", nonNegativeInt("--dashboard-port"))
    .option("--no-dashboard", "do not serve the dashboard")
    .option("--api-port <port>", "serve the OpenAI-compatible API on 127.0.0.1:<port> (0: any free port; default 7481)", nonNegativeInt("--api-port"))
    .option("--no-api", "do not serve the OpenAI-compatible API")
    .option("--api-model <file.gguf>", "a GGUF the API may serve besides the node's own models (repeatable)", collect, [])
    .option("--verify-fraction <0..1>", "fraction of this node's requests whose answers a validator re-checks (default 0.1)", fraction("--verify-fraction"))
    .option("--challenge-minutes <n>", "mean minutes between hidden challenges sent to other workers (0: none; default 10)", nonNegativeNumber("--challenge-minutes"))
    .option("--replay-gpu <name>", "no GPU here: replay a recorded nvidia-smi capture (rtx4080super, rtx4090, 2x-rtx5090) for telemetry")
    .action(async (options) => {
      process.exitCode = await runNodeCommand(options, deps.startNodeDeps);
    });

  return program;
}

/** Runs the CLI; errors with a stable code become one line on stderr and exit code 2. */
export async function runCli(argv: readonly string[], deps: CliDeps = {}): Promise<void> {
  try {
    await buildProgram(deps).parseAsync([...argv]);
  } catch (error) {
    if (!isInferSwarmError(error)) throw error;
    console.error(`inferswarm: ${error.message} [${error.code}]`);
    process.exitCode = 2;
  }
}
