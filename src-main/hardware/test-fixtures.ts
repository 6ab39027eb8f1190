import { readFileSync } from "node:fs";
import path from "node:path";
import type { CommandOptions, CommandResult, CommandRunner } from "./command-runner.js";
import { HardwareError } from "./hardware-errors.js";

/** Test helpers: fixture files and a scripted command runner. Not exported from the module's door. */
export const FIXTURES_DIR = path.join(import.meta.dirname, "fixtures");

export function fixtureText(relativePath: string): string {
  return readFileSync(path.join(FIXTURES_DIR, relativePath), "utf8");
}

export interface RecordedCall {
  file: string;
  args: readonly string[];
  options: CommandOptions;
}

/**
 * A CommandRunner that answers from a script: a function of the call, returning a result or throwing.
 * Records every call so tests can check what was run.
 */
export function scriptedRunner(answer: (call: RecordedCall) => CommandResult | Promise<CommandResult>): CommandRunner & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const runner = async (file: string, args: readonly string[], options: CommandOptions) => {
    const call = { file, args, options };
    calls.push(call);
    return answer(call);
  };
  return Object.assign(runner, { calls });
}

export const missingCommand = (file: string): never => {
  throw new HardwareError("HARDWARE_COMMAND_NOT_FOUND", `${file} is not installed or not on PATH.`);
};
