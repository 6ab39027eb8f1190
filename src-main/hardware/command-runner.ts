import { execFile } from "node:child_process";
import { HardwareError } from "./hardware-errors.js";

export interface CommandOptions {
  /** The process is killed after this long and the call fails with HARDWARE_COMMAND_TIMEOUT. */
  timeoutMs: number;
  /** Output beyond this (stdout or stderr, default 1 MiB) kills the process: HARDWARE_COMMAND_OUTPUT_TOO_LARGE. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs one program with arguments, never through a shell. Resolves whatever the exit code; rejects
 * with a HardwareError when the program is missing (HARDWARE_COMMAND_NOT_FOUND), too slow, too loud,
 * aborted, or could not be run.
 */
export type CommandRunner = (file: string, args: readonly string[], options: CommandOptions) => Promise<CommandResult>;

interface ExecFileFailure extends Error {
  code?: string | number | null;
  killed?: boolean;
  signal?: NodeJS.Signals | null;
}

/** The real runner: child_process.execFile with a timeout (SIGKILL) and a bounded buffer. */
export function createRealCommandRunner(): CommandRunner {
  return (file, args, options) =>
    new Promise<CommandResult>((resolve, reject) => {
      options.signal?.throwIfAborted();
      execFile(
        file,
        [...args],
        {
          timeout: options.timeoutMs,
          maxBuffer: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
          killSignal: "SIGKILL",
          windowsHide: true,
          encoding: "utf8",
          signal: options.signal,
        },
        (error: ExecFileFailure | null, stdout, stderr) => {
          if (!error) return resolve({ stdout, stderr, exitCode: 0 });
          if (typeof error.code === "number") return resolve({ stdout, stderr, exitCode: error.code });
          reject(describeFailure(file, options, error));
        },
      );
    });
}

function describeFailure(file: string, options: CommandOptions, error: ExecFileFailure): HardwareError {
  if (error.code === "ENOENT") {
    return new HardwareError("HARDWARE_COMMAND_NOT_FOUND", `${file} is not installed or not on PATH.`, { cause: error });
  }
  if (error.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
    return new HardwareError(
      "HARDWARE_COMMAND_OUTPUT_TOO_LARGE",
      `${file} printed more than ${options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES} bytes and was stopped; its output is not what was expected.`,
      { cause: error },
    );
  }
  if (error.name === "AbortError" || options.signal?.aborted) {
    return new HardwareError("HARDWARE_COMMAND_ABORTED", `${file} was stopped because its caller gave up on it.`, { cause: error });
  }
  if (error.killed) {
    return new HardwareError(
      "HARDWARE_COMMAND_TIMEOUT",
      `${file} did not finish within ${options.timeoutMs} ms and was killed; the driver may be hung.`,
      { cause: error },
    );
  }
  return new HardwareError("HARDWARE_COMMAND_FAILED", `${file} could not be run: ${error.message}`, { cause: error });
}
