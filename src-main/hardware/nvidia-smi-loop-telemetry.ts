import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { type Clock, createSilentLogger, type Logger, systemClock, systemTimers, type Timers } from "../common/index.js";
import { errorMessage } from "./hardware-errors.js";
import { NVIDIA_SMI_GPU_QUERY_ARGS, nvidiaRowToReading, parseNvidiaSmiGpuCsv, type NvidiaSmiGpuRow } from "./nvidia-smi-telemetry.js";
import type { TelemetryReadResult, TelemetrySource } from "./telemetry-types.js";

/** What the loop source needs of a child process: ChildProcess fits, and so does a test double. */
export interface LoopChildProcess {
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: "error", listener: (error: Error & { code?: unknown }) => void): unknown;
  /** The process ended (not emitted when it could not be started). */
  on(event: "exit", listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  /** The process ended or failed to start, and its output streams are closed: always the last event. */
  on(event: "close", listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

export type SpawnProcess = (command: string, args: readonly string[]) => LoopChildProcess;

/** child_process.spawn without a shell; the child does not keep this process alive. */
export const spawnWithoutShell: SpawnProcess = (command, args) => {
  const child = spawn(command, [...args], { stdio: ["ignore", "pipe", "pipe"], shell: false, windowsHide: true });
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  return child;
};

export interface NvidiaSmiLoopTelemetryOptions {
  spawnProcess?: SpawnProcess;
  command?: string;
  /** nvidia-smi's --loop-ms: one round of rows per interval. */
  intervalMs?: number;
  logger?: Logger;
  clock?: Clock;
  timers?: Timers;
}

export interface NvidiaSmiLoopTelemetrySource extends TelemetrySource {
  /** Stops the child (SIGTERM, SIGKILL after 2 s) and any restart; later reads answer with an error. */
  close(): void;
}

/** A line longer than this is not an nvidia-smi row: it is dropped, and so is what follows until its end. */
export const NVIDIA_SMI_LOOP_MAX_LINE_CHARS = 4096;
const STDERR_KEEP_CHARS = 4096;
export const NVIDIA_SMI_LOOP_MIN_BACKOFF_MS = 1000;
export const NVIDIA_SMI_LOOP_MAX_BACKOFF_MS = 60_000;
export const NVIDIA_SMI_LOOP_KILL_GRACE_MS = 2000;
/** Bounds on one round, so a runaway child cannot grow memory: more GPUs than this per machine is not real. */
const MAX_ROUND_ROWS = 64;
const MAX_ROUND_PROBLEMS = 16;
/** A round older than this many intervals means the child has stopped reporting. */
const STALE_INTERVALS = 3;

interface Round {
  at: number;
  rows: NvidiaSmiGpuRow[];
  problems: string[];
}

type Failure = { kind: "absent" } | { kind: "error"; message: string };

/**
 * Live NVIDIA readings from ONE long-running `nvidia-smi --query-gpu=… --loop-ms=<interval>`, started on
 * the first read: spawning a process per read costs a process that maps big model weights real speed.
 *
 * Rounds: nvidia-smi prints one row per GPU, in index order, in one burst per interval. A round ends when
 * a row's index does not grow (the index restarted at 0: a new round began) or when stdout has been quiet
 * for a short gap (min(200 ms, interval / 4)), so the latest round is published right after its burst
 * without knowing the GPU count. read() answers from the latest complete round without spawning anything.
 *
 * A child that exits is restarted after 1 s, 2 s, 4 s… up to 60 s (reset by its first complete round);
 * there is never more than one child. A child that prints nothing for 3 intervals is reported as stopped
 * and killed, which restarts it.
 */
export function createNvidiaSmiLoopTelemetrySource(options: NvidiaSmiLoopTelemetryOptions = {}): NvidiaSmiLoopTelemetrySource {
  const spawnProcess = options.spawnProcess ?? spawnWithoutShell;
  const command = options.command ?? "nvidia-smi";
  const intervalMs = Math.round(options.intervalMs ?? 2000);
  const logger = options.logger ?? createSilentLogger();
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be at least 1 ms (got ${options.intervalMs}).`);
  const args = [...NVIDIA_SMI_GPU_QUERY_ARGS, `--loop-ms=${intervalMs}`];
  const gapMs = Math.max(1, Math.min(200, Math.floor(intervalMs / 4)));
  const staleMs = STALE_INTERVALS * intervalMs;

  let closed = false;
  let child: LoopChildProcess | undefined;
  let childExited = false;
  let killTimer: unknown;
  /** Why we stopped the current child, when we did: a better exit reason than "killed by SIGTERM". */
  let killReason: string | undefined;
  let restartTimer: unknown;
  let backoffMs = NVIDIA_SMI_LOOP_MIN_BACKOFF_MS;
  /** When the current child started or last completed a round. */
  let lastProgressAt = 0;
  let latest: Round | undefined;
  let failure: Failure | undefined;
  const waiters = new Set<() => void>();

  // Per-child reading state.
  let lineBuffer = "";
  let discardingLongLine = false;
  let stderrTail = "";
  let lastOddLine: string | undefined;
  let pending: Round | undefined;
  let lastIndex = -1;
  let gapTimer: unknown;

  function notify() {
    for (const waiter of [...waiters]) waiter();
  }

  function completeRound() {
    timers.clearTimeout(gapTimer);
    gapTimer = undefined;
    const round = pending;
    pending = undefined;
    lastIndex = -1;
    if (!round || (round.rows.length === 0 && round.problems.length === 0)) return;
    round.at = clock.now();
    latest = round;
    lastProgressAt = round.at;
    if (round.rows.length > 0) {
      failure = undefined;
      backoffMs = NVIDIA_SMI_LOOP_MIN_BACKOFF_MS;
    }
    notify();
  }

  function pendingRound(): Round {
    pending ??= { at: 0, rows: [], problems: [] };
    return pending;
  }

  function addProblems(problems: string[]) {
    const round = pendingRound();
    for (const problem of problems) if (round.problems.length < MAX_ROUND_PROBLEMS) round.problems.push(problem);
  }

  function onLine(line: string) {
    if (line.trim() === "") return;
    const { rows, problems } = parseNvidiaSmiGpuCsv(line);
    const row = rows[0];
    if (row) {
      if (pending && pending.rows.length > 0 && (row.index <= lastIndex || pending.rows.length >= MAX_ROUND_ROWS)) completeRound();
      pendingRound().rows.push(row);
      lastIndex = row.index;
    } else {
      lastOddLine = line.trim().slice(0, 300);
      addProblems(problems);
    }
    timers.clearTimeout(gapTimer);
    gapTimer = timers.setTimeout(completeRound, gapMs);
  }

  function onStdout(chunk: string) {
    let text = chunk;
    for (;;) {
      const newline = text.indexOf("\n");
      if (newline === -1) break;
      const piece = text.slice(0, newline);
      text = text.slice(newline + 1);
      if (discardingLongLine) {
        discardingLongLine = false;
        continue;
      }
      const line = lineBuffer + piece;
      lineBuffer = "";
      if (line.length > NVIDIA_SMI_LOOP_MAX_LINE_CHARS) tooLong();
      else onLine(line.replace(/\r$/, ""));
    }
    if (discardingLongLine) return;
    lineBuffer += text;
    if (lineBuffer.length > NVIDIA_SMI_LOOP_MAX_LINE_CHARS) {
      lineBuffer = "";
      discardingLongLine = true;
      tooLong();
    }
  }

  function tooLong() {
    addProblems([`nvidia-smi printed a line longer than ${NVIDIA_SMI_LOOP_MAX_LINE_CHARS} characters; it was dropped`]);
    timers.clearTimeout(gapTimer);
    gapTimer = timers.setTimeout(completeRound, gapMs);
  }

  function start() {
    if (closed || child || restartTimer !== undefined) return;
    lineBuffer = "";
    discardingLongLine = false;
    stderrTail = "";
    lastOddLine = undefined;
    pending = undefined;
    lastIndex = -1;
    latest = undefined;
    childExited = false;
    killReason = undefined;
    lastProgressAt = clock.now();
    let started: LoopChildProcess;
    try {
      started = spawnProcess(command, args);
    } catch (error) {
      childEnded(undefined, describeSpawnError(error));
      return;
    }
    child = started;
    let spawnError: Failure | undefined;
    started.stdout?.setEncoding("utf8");
    started.stdout?.on("data", (chunk: string) => {
      if (child === started) onStdout(chunk);
    });
    started.stderr?.setEncoding("utf8");
    started.stderr?.on("data", (chunk: string) => {
      if (child === started) stderrTail = (stderrTail + chunk).slice(-STDERR_KEEP_CHARS);
    });
    // A stream error (EPIPE, reset) ends nothing by itself: 'close' follows.
    started.stdout?.on("error", () => undefined);
    started.stderr?.on("error", () => undefined);
    started.on("error", (error) => {
      spawnError ??= describeSpawnError(error);
    });
    started.on("exit", () => {
      if (child === started) childExited = true;
    });
    started.on("close", (code, signal) => {
      if (child !== started) return;
      childEnded(started, spawnError ?? { kind: "error", message: describeExit(code, signal) });
    });
    logger.debug({ command, intervalMs }, "nvidia-smi loop started");
  }

  function describeSpawnError(error: unknown): Failure {
    if ((error as { code?: unknown } | null)?.code === "ENOENT") return { kind: "absent" };
    return { kind: "error", message: `${command} could not be run: ${errorMessage(error)}` };
  }

  function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
    const said = stderrTail
      .split(/\r?\n/)
      .map((line) => line.trim())
      .find((line) => line !== "") ?? lastOddLine;
    if (killReason) return killReason;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    return `nvidia-smi ${how}${said ? `: ${said.slice(0, 300)}` : ""}`;
  }

  function childEnded(ended: LoopChildProcess | undefined, why: Failure) {
    if (ended) {
      // Rows printed just before the end are still a round.
      if (lineBuffer.trim() !== "" && !discardingLongLine) onLine(lineBuffer);
      lineBuffer = "";
      completeRound();
    }
    child = undefined;
    childExited = true;
    timers.clearTimeout(killTimer);
    killTimer = undefined;
    timers.clearTimeout(gapTimer);
    gapTimer = undefined;
    latest = undefined;
    failure = why;
    if (!closed) {
      const delay = backoffMs;
      backoffMs = Math.min(backoffMs * 2, NVIDIA_SMI_LOOP_MAX_BACKOFF_MS);
      if (why.kind === "error") logger.warn({ error: why.message, restartInMs: delay }, "nvidia-smi loop ended; restarting");
      restartTimer = timers.setTimeout(() => {
        restartTimer = undefined;
        start();
      }, delay);
    }
    notify();
  }

  function stopChild(reason: string) {
    const running = child;
    if (!running || killTimer !== undefined) return;
    killReason = reason;
    running.kill("SIGTERM");
    killTimer = timers.setTimeout(() => {
      killTimer = undefined;
      if (child === running && !childExited) running.kill("SIGKILL");
    }, NVIDIA_SMI_LOOP_KILL_GRACE_MS);
  }

  function answer(): TelemetryReadResult | undefined {
    if (closed) return { status: "error", error: "the nvidia-smi reader is closed" };
    const now = clock.now();
    if (child && now - lastProgressAt > staleMs) {
      const silentS = Math.round((now - lastProgressAt) / 1000);
      const message = `nvidia-smi stopped reporting (nothing for ${silentS} s)`;
      stopChild(`${message}; it was stopped`);
      return { status: "error", error: `${message}; restarting it` };
    }
    if (latest && failure === undefined) {
      return { status: "ok", gpus: latest.rows.map(nvidiaRowToReading), problems: [...latest.problems] };
    }
    if (failure?.kind === "absent") return { status: "absent" };
    if (failure) return { status: "error", error: failure.message };
    if (latest) return { status: "ok", gpus: [], problems: [...latest.problems] };
    return undefined;
  }

  /** Until something changes, the child's startup window ends, or the caller gives up. */
  function waitForChange(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        waiters.delete(done);
        timers.clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = timers.setTimeout(done, Math.max(0, lastProgressAt + staleMs - clock.now()) + 1);
      waiters.add(done);
      signal.addEventListener("abort", done);
    });
  }

  return {
    name: "nvidia-smi",
    async read({ signal }) {
      start();
      const now = answer();
      if (now) return now;
      if (signal.aborted) return { status: "error", error: "no output from nvidia-smi yet" };
      await waitForChange(signal);
      return answer() ?? { status: "error", error: "no output from nvidia-smi yet" };
    },
    close() {
      if (closed) return;
      closed = true;
      timers.clearTimeout(restartTimer);
      restartTimer = undefined;
      timers.clearTimeout(gapTimer);
      gapTimer = undefined;
      stopChild("the nvidia-smi reader was closed");
      notify();
    },
  };
}
