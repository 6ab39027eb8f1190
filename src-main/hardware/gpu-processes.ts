import type { CommandRunner } from "./command-runner.js";
import { errorMessage, HardwareError } from "./hardware-errors.js";
import { describeNvidiaSmiFailure, NVIDIA_SMI_MAX_OUTPUT_BYTES, nvidiaSmiNumber, nvidiaSmiValue } from "./nvidia-smi-telemetry.js";

const MIB = 1024 * 1024;

export type GpuProcessKind = "compute" | "graphics";

export interface GpuProcess {
  pid: number;
  /** The executable's file name ("ffmpeg", "dwm.exe"), without its directory. */
  name: string;
  /** As nvidia-smi reported it: often a full path, sometimes cut short with a leading "...". */
  command: string;
  /** "graphics" when the process holds a graphics context (type G or C+G), else "compute". */
  kind: GpuProcessKind;
  /** Null when the driver cannot tell (Windows WDDM reports no per-process memory). */
  vramBytes: number | null;
}

export const NVIDIA_SMI_COMPUTE_APPS_ARGS = ["--query-compute-apps=pid,process_name,used_memory", "--format=csv,noheader,nounits"] as const;

export function executableName(command: string): string {
  const trimmed = command.trim();
  return trimmed.split(/[\\/]/).at(-1) || trimmed;
}

/** `--query-compute-apps=pid,process_name,used_memory` with noheader,nounits. */
export function parseComputeAppsCsv(stdout: string): GpuProcess[] {
  const processes: GpuProcess[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const first = line.indexOf(",");
    const last = line.lastIndexOf(",");
    if (first < 0 || last <= first) continue;
    const pid = nvidiaSmiNumber(line.slice(0, first));
    // The name sits between the first and last comma, so a path with commas survives.
    const command = nvidiaSmiValue(line.slice(first + 1, last)) ?? "";
    const mib = nvidiaSmiNumber(line.slice(last + 1));
    if (pid === null || !Number.isInteger(pid)) continue;
    processes.push({ pid, name: executableName(command), command, kind: "compute", vramBytes: mib === null ? null : mib * MIB });
  }
  return processes;
}

/**
 * The "Processes" block of plain `nvidia-smi`: one row per process and GPU, e.g.
 * `|    0   N/A  N/A            5021      C   ffmpeg                                  360MiB |`.
 * Older drivers print no GI/CI columns; Windows prints "N/A" for memory.
 */
export function parseNvidiaSmiProcessTable(stdout: string): GpuProcess[] {
  const processes: GpuProcess[] = [];
  const lines = stdout.split(/\r?\n/);
  const start = lines.findIndex((line) => /^\|\s*Processes:/.test(line));
  if (start < 0) return processes;
  const row = /^\|\s*(\d+)\s+(?:(?:N\/A|\d+)\s+(?:N\/A|\d+)\s+)?(\d+)\s+(C\+G|G|C|M\+C|M)\s+(.+?)\s+(\d+MiB|N\/A)\s*\|$/;
  for (const line of lines.slice(start + 1)) {
    const match = row.exec(line.trimEnd());
    if (!match) continue;
    const [, , pid = "", type = "", command = "", memory = ""] = match;
    processes.push({
      pid: Number(pid),
      name: executableName(command),
      command,
      kind: type.includes("G") ? "graphics" : "compute",
      vramBytes: memory === "N/A" ? null : Number(memory.replace("MiB", "")) * MIB,
    });
  }
  return processes;
}

/** Rows of one list folded per pid: a process on two GPUs has two rows, and its memory is their sum. */
function foldByPid(rows: readonly GpuProcess[]): Map<number, GpuProcess> {
  const byPid = new Map<number, GpuProcess>();
  for (const row of rows) {
    const seen = byPid.get(row.pid);
    if (!seen) byPid.set(row.pid, { ...row });
    else {
      if (row.kind === "graphics") seen.kind = "graphics";
      seen.vramBytes = seen.vramBytes === null || row.vramBytes === null ? (seen.vramBytes ?? row.vramBytes) : seen.vramBytes + row.vramBytes;
    }
  }
  return byPid;
}

/**
 * One entry per process. The table knows every process and its type (G, C, C+G) but cuts long names;
 * the CSV lists compute processes with their full name. Memory comes from the table, else the CSV.
 */
export function mergeGpuProcesses(table: readonly GpuProcess[], computeApps: readonly GpuProcess[]): GpuProcess[] {
  const merged = foldByPid(table);
  for (const app of foldByPid(computeApps).values()) {
    const seen = merged.get(app.pid);
    if (!seen) {
      merged.set(app.pid, app);
      continue;
    }
    if (app.command && (seen.command.startsWith("...") || app.command.length > seen.command.length)) {
      seen.command = app.command;
      seen.name = app.name;
    }
    seen.vramBytes ??= app.vramBytes;
  }
  return [...merged.values()].sort((a, b) => a.pid - b.pid);
}

export type GpuProcessesResult = { status: "absent" } | { status: "ok"; processes: GpuProcess[] } | { status: "error"; error: string };

export interface NvidiaGpuProcessOptions {
  runCommand: CommandRunner;
  command?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Every process holding a context on an NVIDIA GPU, from two nvidia-smi calls (one after the other). */
export async function listNvidiaGpuProcesses(options: NvidiaGpuProcessOptions): Promise<GpuProcessesResult> {
  const command = options.command ?? "nvidia-smi";
  const runOptions = { timeoutMs: options.timeoutMs ?? 5000, maxOutputBytes: NVIDIA_SMI_MAX_OUTPUT_BYTES, signal: options.signal };
  try {
    const csv = await options.runCommand(command, NVIDIA_SMI_COMPUTE_APPS_ARGS, runOptions);
    if (csv.exitCode !== 0) return { status: "error", error: describeNvidiaSmiFailure(csv) };
    const table = await options.runCommand(command, [], runOptions);
    if (table.exitCode !== 0) return { status: "error", error: describeNvidiaSmiFailure(table) };
    return { status: "ok", processes: mergeGpuProcesses(parseNvidiaSmiProcessTable(table.stdout), parseComputeAppsCsv(csv.stdout)) };
  } catch (error) {
    if (error instanceof HardwareError && error.code === "HARDWARE_COMMAND_NOT_FOUND") return { status: "absent" };
    return { status: "error", error: errorMessage(error) };
  }
}
