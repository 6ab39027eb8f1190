import { Command, CommanderError } from "commander";
import { isInferSwarmError } from "../common/index.js";
import { registerBenchCommand } from "./bench-command.js";
import { addGlobalOptions, createCliContext, EXIT, type CliContext, type CliDeps } from "./cli-context.js";
import { registerDemoCommand } from "./demo-command.js";
import { registerGatewayCommand } from "./gateway-command.js";
import { registerGenerateCommand } from "./generate-command.js";
import { registerKeygenCommand } from "./keygen-command.js";
import { registerLedgerCommand } from "./ledger-command.js";
import { registerModelsCommand } from "./models-command.js";
import { registerNodeCommand } from "./node-command.js";
import { registerStatusCommand } from "./status-command.js";

export type { CliDeps } from "./cli-context.js";

/** Builds the `inferswarm` command line: one file per command, each registering itself here. */
export function buildProgram(deps: CliDeps = {}): { program: Command; context: CliContext } {
  const program = new Command()
    .name("inferswarm")
    .description("InferSwarm: lend an idle GPU to a peer-to-peer LLM inference swarm.\nExit codes: 0 ok, 1 failure, 2 usage or bad input, 130 interrupted.")
    .showHelpAfterError("(run with --help for usage)")
    // Errors come back to runCli as exceptions instead of ending the process, so tests can run commands.
    .exitOverride();
  const context = createCliContext(program, deps);
  program.configureOutput({ writeOut: context.io.stdout, writeErr: context.io.stderr });
  addGlobalOptions(program);
  registerNodeCommand(program, context);
  registerGatewayCommand(program, context);
  registerModelsCommand(program, context);
  registerStatusCommand(program, context);
  registerLedgerCommand(program, context);
  registerBenchCommand(program, context);
  registerKeygenCommand(program, context);
  registerGenerateCommand(program, context);
  registerDemoCommand(program, context);
  return { program, context };
}

/**
 * Runs the CLI and returns its exit code (also handed to `deps.onExit`, by default `process.exitCode`).
 * An InferSwarmError becomes one line on stderr naming its code; see EXIT for the codes.
 */
export async function runCli(argv: readonly string[], deps: CliDeps = {}): Promise<number> {
  const { program, context } = buildProgram(deps);
  let code: number;
  try {
    await program.parseAsync([...argv]);
    code = context.exitCode;
  } catch (error) {
    code = reportError(error, context);
  }
  (deps.onExit ?? ((exit: number) => void (process.exitCode = exit)))(code);
  return code;
}

function reportError(error: unknown, context: CliContext): number {
  const io = context.io;
  // Commander has already printed its message (and help) through configureOutput.
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (isInferSwarmError(error)) {
    io.stderr(`inferswarm: ${error.message} [${error.code}]\n`);
    const exitCode = (error as { exitCode?: unknown }).exitCode;
    return typeof exitCode === "number" ? exitCode : EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`inferswarm: unexpected error: ${message}. Run again with --log-level debug for details, and report it if it persists.\n`);
  context.logger().debug({ err: error }, "unexpected error");
  return EXIT.failure;
}
