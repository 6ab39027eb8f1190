import type { CommandResult, CommandRunner } from "./command-runner.js";
import { errorMessage, HardwareError } from "./hardware-errors.js";
import { normalizePciBusId } from "./pci-bus-id.js";
import type { GpuReading, TelemetryReadResult, TelemetrySource } from "./telemetry-types.js";

/** The columns we ask for, in order; the parser depends on this order. */
export const NVIDIA_SMI_GPU_FIELDS = [
  "index",
  "uuid",
  "name",
  "pci.bus_id",
  "driver_version",
  "temperature.gpu",
  "utilization.gpu",
  "utilization.memory",
  "power.draw",
  "power.limit",
  "memory.used",
  "memory.total",
  "clocks.sm",
  "clocks.mem",
  "fan.speed",
] as const;

export const NVIDIA_SMI_GPU_QUERY_ARGS = [`--query-gpu=${NVIDIA_SMI_GPU_FIELDS.join(",")}`, "--format=csv,noheader,nounits"] as const;

const MIB = 1024 * 1024;
export const NVIDIA_SMI_MAX_OUTPUT_BYTES = 256 * 1024;

export interface NvidiaSmiGpuRow {
  index: number;
  uuid: string | null;
  name: string;
  pciBusId: string | null;
  driverVersion: string | null;
  temperatureC: number | null;
  utilizationPercent: number | null;
  memoryUtilizationPercent: number | null;
  powerW: number | null;
  powerLimitW: number | null;
  vramUsedBytes: number | null;
  vramTotalBytes: number | null;
  smClockMHz: number | null;
  memClockMHz: number | null;
  fanPercent: number | null;
}

/**
 * nvidia-smi writes "[N/A]", "N/A", "[Not Supported]", "[Unknown Error]"… for values it cannot read.
 * All of them mean "unknown": null, never 0.
 */
export function nvidiaSmiValue(raw: string | undefined): string | null {
  const value = raw?.trim() ?? "";
  if (value === "" || value === "N/A" || /^\[.*\]$/.test(value)) return null;
  return value;
}

export function nvidiaSmiNumber(raw: string | undefined): number | null {
  const value = nvidiaSmiValue(raw);
  if (value === null || !/^-?\d+(\.\d+)?$/.test(value)) return null;
  return Number(value);
}

/** Parses `--query-gpu` output in NVIDIA_SMI_GPU_FIELDS order; lines that do not fit become problems. */
export function parseNvidiaSmiGpuCsv(stdout: string): { rows: NvidiaSmiGpuRow[]; problems: string[] } {
  const rows: NvidiaSmiGpuRow[] = [];
  const problems: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const cells = line.split(",").map((cell) => cell.trim());
    const index = nvidiaSmiNumber(cells[0]);
    const name = nvidiaSmiValue(cells[2]);
    if (cells.length !== NVIDIA_SMI_GPU_FIELDS.length || index === null || name === null) {
      problems.push(`unexpected nvidia-smi line: ${line.trim().slice(0, 200)}`);
      continue;
    }
    const mib = (raw: string | undefined) => {
      const value = nvidiaSmiNumber(raw);
      return value === null ? null : value * MIB;
    };
    rows.push({
      index,
      uuid: nvidiaSmiValue(cells[1]),
      name,
      pciBusId: normalizePciBusId(nvidiaSmiValue(cells[3])),
      driverVersion: nvidiaSmiValue(cells[4]),
      temperatureC: nvidiaSmiNumber(cells[5]),
      utilizationPercent: nvidiaSmiNumber(cells[6]),
      memoryUtilizationPercent: nvidiaSmiNumber(cells[7]),
      powerW: nvidiaSmiNumber(cells[8]),
      powerLimitW: nvidiaSmiNumber(cells[9]),
      vramUsedBytes: mib(cells[10]),
      vramTotalBytes: mib(cells[11]),
      smClockMHz: nvidiaSmiNumber(cells[12]),
      memClockMHz: nvidiaSmiNumber(cells[13]),
      fanPercent: nvidiaSmiNumber(cells[14]),
    });
  }
  return { rows, problems };
}

export function nvidiaRowToReading(row: NvidiaSmiGpuRow): GpuReading {
  return {
    id: row.pciBusId ?? `nvidia-${row.index}`,
    vendor: "nvidia",
    name: row.name,
    pciBusId: row.pciBusId,
    driverVersion: row.driverVersion,
    temperatureC: row.temperatureC,
    hotspotC: null,
    utilizationPercent: row.utilizationPercent,
    memoryUtilizationPercent: row.memoryUtilizationPercent,
    powerW: row.powerW,
    powerLimitW: row.powerLimitW,
    vramUsedBytes: row.vramUsedBytes,
    vramTotalBytes: row.vramTotalBytes,
    smClockMHz: row.smClockMHz,
    memClockMHz: row.memClockMHz,
    fanPercent: row.fanPercent,
    fanRpm: null,
  };
}

/** "nvidia-smi exited with code 9: NVIDIA-SMI has failed because…" from a failed run's output. */
export function describeNvidiaSmiFailure(result: CommandResult): string {
  const said = `${result.stdout}\n${result.stderr}`
    .split(/\r?\n/)
    .map((line) => line.trim())
    .find((line) => line !== "");
  return `nvidia-smi exited with code ${result.exitCode}${said ? `: ${said.slice(0, 300)}` : ""}`;
}

export interface NvidiaSmiTelemetryOptions {
  runCommand: CommandRunner;
  /** The executable; "nvidia-smi" is found on PATH (Windows drivers put it in System32). */
  command?: string;
  timeoutMs?: number;
}

/**
 * Live NVIDIA readings from one nvidia-smi call per read. A missing binary means "no NVIDIA tooling"
 * (absent); a failing one (driver not loaded, GPU fallen off the bus) yields an error and no readings.
 * A call that has not returned yet is never joined by a second one.
 */
export function createNvidiaSmiTelemetrySource(options: NvidiaSmiTelemetryOptions): TelemetrySource {
  const command = options.command ?? "nvidia-smi";
  const timeoutMs = options.timeoutMs ?? 5000;
  let pending = false;

  return {
    name: "nvidia-smi",
    async read({ signal }): Promise<TelemetryReadResult> {
      if (pending) return { status: "error", error: "the previous nvidia-smi call has not returned yet" };
      pending = true;
      try {
        const result = await options.runCommand(command, NVIDIA_SMI_GPU_QUERY_ARGS, {
          timeoutMs,
          maxOutputBytes: NVIDIA_SMI_MAX_OUTPUT_BYTES,
          signal,
        });
        if (result.exitCode !== 0) return { status: "error", error: describeNvidiaSmiFailure(result) };
        const { rows, problems } = parseNvidiaSmiGpuCsv(result.stdout);
        return { status: "ok", gpus: rows.map(nvidiaRowToReading), problems };
      } catch (error) {
        if (error instanceof HardwareError && error.code === "HARDWARE_COMMAND_NOT_FOUND") return { status: "absent" };
        return { status: "error", error: errorMessage(error) };
      } finally {
        pending = false;
      }
    },
  };
}
