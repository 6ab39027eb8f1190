import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "./program.js";
import type { CliDeps } from "./cli-context.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `inferswarm <args>` in this process with its output captured; the process's exit code is left alone. */
export async function runCapturing(args: readonly string[], deps: Omit<CliDeps, "io" | "onExit"> = {}): Promise<CliRun> {
  const run = { stdout: "", stderr: "" };
  const code = await runCli(["node", "inferswarm", ...args], {
    ...deps,
    io: { stdout: (text) => void (run.stdout += text), stderr: (text) => void (run.stderr += text) },
    onExit: () => {},
  });
  return { code, ...run };
}

/** Starts `inferswarm <args>` (a long-running command) and returns its live output and a stop function. */
export function startCapturing(args: readonly string[], deps: Omit<CliDeps, "io" | "onExit" | "stopSignal"> = {}) {
  const controller = new AbortController();
  const output = { stdout: "", stderr: "" };
  const done = runCli(["node", "inferswarm", ...args], {
    ...deps,
    io: { stdout: (text) => void (output.stdout += text), stderr: (text) => void (output.stderr += text) },
    onExit: () => {},
    stopSignal: controller.signal,
  });
  return {
    output,
    done,
    async stop(): Promise<number> {
      controller.abort();
      return done;
    },
  };
}

/** A fresh --home folder; `cleanup` removes it. */
export function tempHome(prefix = "inferswarm-cli-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
