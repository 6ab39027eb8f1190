import { describe, expect, it } from "vitest";
import {
  createNvidiaSmiTelemetrySource,
  NVIDIA_SMI_GPU_QUERY_ARGS,
  nvidiaSmiNumber,
  nvidiaSmiValue,
  parseNvidiaSmiGpuCsv,
} from "./nvidia-smi-telemetry.js";
import { HardwareError } from "./hardware-errors.js";
import { fixtureText, missingCommand, scriptedRunner } from "./test-fixtures.js";

const MIB = 1024 * 1024;
const read = (source: ReturnType<typeof createNvidiaSmiTelemetrySource>) => source.read({ signal: new AbortController().signal });

describe("parseNvidiaSmiGpuCsv", () => {
  it("reads a desktop RTX 4090 decoding an LLM, with units converted", () => {
    const { rows, problems } = parseNvidiaSmiGpuCsv(fixtureText("nvidia-smi/query-gpu-rtx4090-llm-decode.csv"));
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      {
        index: 0,
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        name: "NVIDIA GeForce RTX 4090",
        pciBusId: "0000:01:00.0",
        driverVersion: "580.126.20",
        temperatureC: 44,
        utilizationPercent: 97,
        memoryUtilizationPercent: 68,
        powerW: 246.2,
        powerLimitW: 290,
        vramUsedBytes: 21874 * MIB,
        vramTotalBytes: 24564 * MIB,
        smClockMHz: 2820,
        memClockMHz: 10251,
        fanPercent: 47,
      },
    ]);
  });

  it("keeps an idle card's zeros as zeros (utilization 0 and fan 0 are readings)", () => {
    const [row] = parseNvidiaSmiGpuCsv(fixtureText("nvidia-smi/query-gpu-rtx4080super-idle.csv")).rows;
    expect(row).toMatchObject({ utilizationPercent: 0, fanPercent: 0, memoryUtilizationPercent: 23, powerW: 26.2, vramTotalBytes: 16376 * MIB });
  });

  it("turns a laptop's [N/A] power and fan into null, not 0", () => {
    const [row] = parseNvidiaSmiGpuCsv(fixtureText("nvidia-smi/query-gpu-laptop-rtx3050ti.csv")).rows;
    expect(row).toMatchObject({ name: "NVIDIA GeForce RTX 3050 Ti Laptop GPU", powerW: null, powerLimitW: null, fanPercent: null, utilizationPercent: 0 });
  });

  it("reads one row per GPU on a 2-GPU machine", () => {
    const { rows } = parseNvidiaSmiGpuCsv(fixtureText("nvidia-smi/query-gpu-2x-rtx5090.csv"));
    expect(rows.map((r) => [r.index, r.pciBusId, r.fanPercent, r.powerLimitW])).toEqual([
      [0, "0000:01:00.0", 41, 575],
      [1, "0000:02:00.0", 31, 600],
    ]);
  });

  it("treats every bracketed or bare N/A spelling as unknown", () => {
    for (const raw of ["[N/A]", "N/A", "[Not Supported]", "[Unknown Error]", "", " [N/A] "]) expect(nvidiaSmiNumber(raw)).toBeNull();
    for (const raw of ["[N/A]", "N/A", "[Not Supported]"]) expect(nvidiaSmiValue(raw)).toBeNull();
    expect(nvidiaSmiNumber("0")).toBe(0);
    expect(nvidiaSmiNumber(" 26.20")).toBe(26.2);
  });

  it("reports lines that do not fit the query as problems and keeps the good rows", () => {
    const csv = [
      "Unable to determine the device handle for GPU0000:02:00.0: Unknown Error",
      fixtureText("nvidia-smi/query-gpu-rtx4080super-idle.csv").trim(),
    ].join("\n");
    const { rows, problems } = parseNvidiaSmiGpuCsv(csv);
    expect(rows).toHaveLength(1);
    expect(problems).toEqual(["unexpected nvidia-smi line: Unable to determine the device handle for GPU0000:02:00.0: Unknown Error"]);
  });
});

describe("createNvidiaSmiTelemetrySource", () => {
  it("runs nvidia-smi with the query, a timeout and an output bound, and maps rows to readings", async () => {
    const runner = scriptedRunner(() => ({ stdout: fixtureText("nvidia-smi/query-gpu-2x-rtx5090.csv"), stderr: "", exitCode: 0 }));
    const result = await read(createNvidiaSmiTelemetrySource({ runCommand: runner, timeoutMs: 1234 }));
    expect(runner.calls[0]).toMatchObject({ file: "nvidia-smi", args: NVIDIA_SMI_GPU_QUERY_ARGS, options: { timeoutMs: 1234 } });
    expect(runner.calls[0]!.options.maxOutputBytes).toBeGreaterThan(0);
    expect(result.status).toBe("ok");
    if (result.status !== "ok") return;
    expect(result.gpus.map((g) => [g.id, g.vendor, g.hotspotC, g.fanRpm])).toEqual([
      ["0000:01:00.0", "nvidia", null, null],
      ["0000:02:00.0", "nvidia", null, null],
    ]);
  });

  it("says 'absent' when nvidia-smi is not installed: no readings and no error", async () => {
    const result = await read(createNvidiaSmiTelemetrySource({ runCommand: scriptedRunner(({ file }) => missingCommand(file)) }));
    expect(result).toEqual({ status: "absent" });
  });

  it("reports a failing nvidia-smi (driver not loaded, exit 9) as an error without readings", async () => {
    const stdout = fixtureText("nvidia-smi/driver-not-loaded.stdout.txt");
    const result = await read(createNvidiaSmiTelemetrySource({ runCommand: scriptedRunner(() => ({ stdout, stderr: "", exitCode: 9 })) }));
    expect(result).toEqual({
      status: "error",
      error:
        "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    });
  });

  it("reports a timeout from the runner as an error", async () => {
    const runner = scriptedRunner(() => {
      throw new HardwareError("HARDWARE_COMMAND_TIMEOUT", "nvidia-smi did not finish within 5000 ms and was killed; the driver may be hung.");
    });
    const result = await read(createNvidiaSmiTelemetrySource({ runCommand: runner }));
    expect(result).toMatchObject({ status: "error", error: expect.stringContaining("did not finish within 5000 ms") });
  });

  it("never starts a second nvidia-smi while the first has not returned", async () => {
    let finish!: (value: { stdout: string; stderr: string; exitCode: number }) => void;
    const idle = { stdout: fixtureText("nvidia-smi/query-gpu-rtx4080super-idle.csv"), stderr: "", exitCode: 0 };
    const runner = scriptedRunner(() => (runner.calls.length === 1 ? new Promise((resolve) => (finish = resolve)) : idle));
    const source = createNvidiaSmiTelemetrySource({ runCommand: runner });
    const first = read(source);
    const second = await read(source);
    expect(second).toEqual({ status: "error", error: "the previous nvidia-smi call has not returned yet" });
    expect(runner.calls).toHaveLength(1);
    finish(idle);
    expect((await first).status).toBe("ok");
    await read(source);
    expect(runner.calls).toHaveLength(2);
  });
});
