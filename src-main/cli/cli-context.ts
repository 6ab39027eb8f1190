import path from "node:path";
import { Option, type Command } from "commander";
import { createLogger, InferSwarmError, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger } from "../common/index.js";
import { defaultNodePaths, type NodePaths, type StartNodeDeps } from "../node/index.js";

/** The exit codes every command keeps to (documented in README.md). */
export const EXIT = {
  ok: 0,
  /** The command ran and the answer is "no": a broken ledger chain, no running node, a model that does not fit, an unexpected error. */
  failure: 1,
  /** The command line or an input was wrong (unknown option, bad value, unreadable or invalid file). */
  usage: 2,
  /** Ctrl-C (or SIGTERM) ended a command before it finished; `node` and `gateway` stop cleanly with 0 instead. */
  interrupted: 130,
} as const;

/** An error that ends a command with a chosen exit code; the message says what to do. */
export class CliError extends InferSwarmError {
  constructor(
    code: string,
    message: string,
    readonly exitCode: number = EXIT.usage,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Where a command writes: the process's streams, or buffers in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** What a caller may swap in: tests capture output and stop nodes; bench/trust starts dishonest workers. */
export interface CliDeps {
  io?: CliIo;
  /** Parts of a started node a caller may replace (tests and bench/trust only). */
  startNodeDeps?: Pick<StartNodeDeps, "serveModelAs">;
  /** Ends long-running commands as SIGINT would (tests run `node` in-process and stop it with this). */
  stopSignal?: AbortSignal;
  /** Receives the exit code; default: sets `process.exitCode`. */
  onExit?(code: number): void;
}

/** What every command's action gets: output, the shared logger, interruption, the exit code to return. */
export interface CliContext {
  readonly io: CliIo;
  readonly deps: CliDeps;
  out(line: string): void;
  err(line: string): void;
  /** The process's logger, configured by the global --log-* options (created on first use). */
  logger(): Logger;
  /** Aborts on SIGINT/SIGTERM (or deps.stopSignal); call `dispose` when done. */
  interruption(): { signal: AbortSignal; dispose(): void };
  exitCode: number;
}

export function createCliContext(program: Command, deps: CliDeps): CliContext {
  const io = deps.io ?? processIo;
  let logger: Logger | undefined;
  return {
    io,
    deps,
    out: (line) => io.stdout(`${line}\n`),
    err: (line) => io.stderr(`${line}\n`),
    logger() {
      if (logger) return logger;
      const globals = program.opts<{ logLevel: string; logFormat: LogFormat; logPrompts?: boolean }>();
      logger = createLogger({
        level: globals.logLevel,
        format: globals.logFormat,
        logPrompts: globals.logPrompts ?? false,
        // Tests capture the log too; the real process writes straight to fd 2.
        ...(deps.io && { destination: { write: (line: string) => io.stderr(line) } }),
      });
      return logger;
    },
    interruption() {
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => controller.abort(new CliError("CLI_INTERRUPTED", `${signal}: stopped before it finished.`, EXIT.interrupted));
      const onSigint = () => onSignal("SIGINT");
      const onSigterm = () => onSignal("SIGTERM");
      const onStop = () => controller.abort(new CliError("CLI_INTERRUPTED", "stopped before it finished.", EXIT.interrupted));
      process.once("SIGINT", onSigint);
      process.once("SIGTERM", onSigterm);
      if (deps.stopSignal?.aborted) onStop();
      deps.stopSignal?.addEventListener("abort", onStop, { once: true });
      return {
        signal: controller.signal,
        dispose() {
          process.off("SIGINT", onSigint);
          process.off("SIGTERM", onSigterm);
          deps.stopSignal?.removeEventListener("abort", onStop);
        },
      };
    },
    exitCode: EXIT.ok,
  };
}

/** The global options, recognised before or after the command name. */
export function addGlobalOptions(program: Command): void {
  program
    .addOption(new Option("--log-level <level>", "log records at this level and above").choices(LOG_LEVELS).default(process.env.INFERSWARM_LOG_LEVEL && (LOG_LEVELS as readonly string[]).includes(process.env.INFERSWARM_LOG_LEVEL) ? process.env.INFERSWARM_LOG_LEVEL : "warn"))
    .addOption(new Option("--log-format <format>", "human lines, or JSON lines for log collectors (both on stderr)").choices(LOG_FORMATS).default("human"))
    .option("--log-prompts", "log prompt and answer text (by default such fields are replaced by their length)");
}

/** `--home`, shared by every command that reads a node's files. */
export function homeOption(): Option {
  return new Option("--home <dir>", "the node's folder (config/ and data/ inside); default: the platform's config and data directories, or $INFERSWARM_HOME");
}

/** The node's folders for `--home` (else $INFERSWARM_HOME, else the platform's), without touching process.env. */
export function nodePathsFor(home: string | undefined): NodePaths {
  return defaultNodePaths(home ? { ...process.env, INFERSWARM_HOME: path.resolve(home) } : process.env);
}

/** How to name a node's home in messages. */
export function describeHome(home: string | undefined, paths: NodePaths): string {
  return home ? path.resolve(home) : paths.dataDir;
}
