import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import type { CommandRunner } from "./command-runner.js";
import { HardwareError } from "./hardware-errors.js";
import type { LoopChildProcess, SpawnProcess } from "./nvidia-smi-loop-telemetry.js";

const FIXTURES_DIR = path.join(import.meta.dirname, "fixtures", "nvidia-smi");

/**
 * Recorded nvidia-smi captures (see fixtures/README.md for where each comes from) that a node without a
 * GPU can replay, so the dashboard's thermals and the policy's limits run on real numbers. The rounds
 * alternate through the listed captures, one per --loop-ms interval, as a card going idle → load would.
 */
export const RECORDED_GPUS = {
  rtx4080super: ["query-gpu-rtx4080super-idle.csv", "query-gpu-rtx4080super-load.csv"],
  rtx4090: ["query-gpu-rtx4090-llm-decode.csv"],
  "2x-rtx5090": ["query-gpu-2x-rtx5090.csv"],
} as const;
export type RecordedGpuName = keyof typeof RECORDED_GPUS;
export const RECORDED_GPU_NAMES = Object.keys(RECORDED_GPUS) as RecordedGpuName[];

export interface RecordedGpuReplay {
  /** Stands in for `nvidia-smi --query-gpu=… --loop-ms=N`: prints the recorded rows every N ms. */
  spawnProcess: SpawnProcess;
  /** Stands in for one-shot calls (`--query-compute-apps` lists no other GPU users: a quiet machine). */
  runCommand: CommandRunner;
}

export function createRecordedGpuReplay(name: string): RecordedGpuReplay {
  if (!Object.hasOwn(RECORDED_GPUS, name)) {
    throw new HardwareError("HARDWARE_FIXTURE_UNKNOWN", `There is no recorded GPU named "${name}"; use one of: ${RECORDED_GPU_NAMES.join(", ")}.`);
  }
  const rounds = RECORDED_GPUS[name as RecordedGpuName].map((file) => readFileSync(path.join(FIXTURES_DIR, file), "utf8").trimEnd() + "\n");
  const spawnProcess: SpawnProcess = (_command, args) => {
    const loopArg = args.find((arg) => arg.startsWith("--loop-ms="));
    const intervalMs = Math.max(50, Number(loopArg?.slice("--loop-ms=".length)) || 2000);
    return replayChild(rounds, intervalMs);
  };
  const runCommand: CommandRunner = async (_file, args) => {
    if (args.some((arg) => arg.startsWith("--query-gpu="))) return { stdout: rounds[0]!, stderr: "", exitCode: 0 };
    return { stdout: "", stderr: "", exitCode: 0 };
  };
  return { spawnProcess, runCommand };
}

function replayChild(rounds: readonly string[], intervalMs: number): LoopChildProcess {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const child = new EventEmitter();
  let index = 0;
  const print = () => stdout.write(rounds[index++ % rounds.length]!);
  print();
  // Unref'd like the real child: a replay never keeps the node alive.
  const timer = setInterval(print, intervalMs);
  timer.unref();
  let ended = false;
  return Object.assign(child, {
    stdout,
    stderr,
    kill(signal: NodeJS.Signals = "SIGTERM") {
      if (ended) return false;
      ended = true;
      clearInterval(timer);
      child.emit("exit", null, signal);
      stdout.end();
      stderr.end();
      setImmediate(() => child.emit("close", null, signal));
      return true;
    },
  }) as LoopChildProcess;
}
