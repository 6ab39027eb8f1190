import { describe, expect, it } from "vitest";
import { listNvidiaGpuProcesses, mergeGpuProcesses, NVIDIA_SMI_COMPUTE_APPS_ARGS, parseComputeAppsCsv, parseNvidiaSmiProcessTable } from "./gpu-processes.js";
import { fixtureText, missingCommand, scriptedRunner } from "./test-fixtures.js";

const MIB = 1024 * 1024;

describe("parseNvidiaSmiProcessTable", () => {
  it("reads the Processes block of a Linux desktop under load: G, C and C+G", () => {
    const rows = parseNvidiaSmiProcessTable(fixtureText("nvidia-smi/table-rtx4080super-load.txt"));
    expect(rows.map((r) => [r.pid, r.name, r.kind, r.vramBytes])).toEqual([
      [2165, "kwin_wayland", "graphics", 25 * MIB],
      [2496, "plasma-keyboard", "graphics", 200 * MIB],
      [2620, "Xwayland", "graphics", 4 * MIB],
      [2954, "plasmashell", "graphics", 120 * MIB],
      [3527, "xwaylandvideobridge", "graphics", 3 * MIB],
      [5021, "ffmpeg", "compute", 360 * MIB],
      [5022, "ffmpeg", "compute", 503 * MIB],
    ]);
  });

  it("reads Windows rows: names cut short, memory N/A under WDDM", () => {
    const rows = parseNvidiaSmiProcessTable(fixtureText("nvidia-smi/table-rtx2080super-windows-idle.txt"));
    expect(rows).toHaveLength(10);
    expect(rows[1]).toEqual({ pid: 4680, name: "NVIDIA Share.exe", command: "...e Experience\\NVIDIA Share.exe", kind: "graphics", vramBytes: null });
    expect(rows[8]).toMatchObject({ pid: 20372, name: "NZXT CAM.exe" });
  });

  it("reads the older layout without GI/CI columns and an empty process list", () => {
    const old = [
      "| Processes:                                                       GPU Memory |",
      "|  GPU       PID   Type   Process name                             Usage      |",
      "|=============================================================================|",
      "|    0      1523      G   /usr/lib/xorg/Xorg                           233MiB |",
      "|    0     31337      C   python3                                     8101MiB |",
      "+-----------------------------------------------------------------------------+",
    ].join("\n");
    expect(parseNvidiaSmiProcessTable(old).map((r) => [r.pid, r.kind, r.vramBytes])).toEqual([
      [1523, "graphics", 233 * MIB],
      [31337, "compute", 8101 * MIB],
    ]);
    expect(parseNvidiaSmiProcessTable("| Processes:   |\n|  No running processes found  |\n")).toEqual([]);
  });
});

describe("parseComputeAppsCsv and mergeGpuProcesses", () => {
  it("reads compute apps with memory in MiB, or null for [N/A]", () => {
    expect(parseComputeAppsCsv(fixtureText("nvidia-smi/compute-apps-rtx4080super-load.csv")).map((p) => [p.pid, p.name, p.vramBytes])).toEqual([
      [2165, "kwin_wayland", 25 * MIB],
      [5022, "ffmpeg", 503 * MIB],
      [5021, "ffmpeg", 360 * MIB],
    ]);
    expect(parseComputeAppsCsv(fixtureText("nvidia-smi/compute-apps-rtx2080super-windows-wddm.csv"))[2]).toMatchObject({ pid: 2056, name: "dwm.exe", vramBytes: null });
  });

  it("keeps one entry per process, its type from the table and its full name from the CSV", () => {
    const merged = mergeGpuProcesses(
      parseNvidiaSmiProcessTable(fixtureText("nvidia-smi/table-rtx2080super-windows-idle.txt")),
      parseComputeAppsCsv(fixtureText("nvidia-smi/compute-apps-rtx2080super-windows-wddm.csv")),
    );
    expect(merged).toHaveLength(10);
    expect(merged.find((p) => p.pid === 12444)).toEqual({
      pid: 12444,
      name: "TextInputHost.exe",
      command: "C:\\Windows\\SystemApps\\MicrosoftWindows.Client.CBS_cw5n1h2txyewy\\TextInputHost.exe",
      kind: "graphics",
      vramBytes: null,
    });
  });

  it("sums a process's memory over the GPUs it uses", () => {
    const table = ["| Processes: |", "|    0   N/A  N/A   777      C   llama-server     1000MiB |", "|    1   N/A  N/A   777      C   llama-server     3000MiB |"].join("\n");
    expect(mergeGpuProcesses(parseNvidiaSmiProcessTable(table), [])).toEqual([{ pid: 777, name: "llama-server", command: "llama-server", kind: "compute", vramBytes: 4000 * MIB }]);
  });
});

describe("listNvidiaGpuProcesses", () => {
  it("runs the compute-apps query and the plain table, one after the other", async () => {
    const runner = scriptedRunner(({ args }) => ({
      stdout: fixtureText(args.length === 0 ? "nvidia-smi/table-rtx4080super-load.txt" : "nvidia-smi/compute-apps-rtx4080super-load.csv"),
      stderr: "",
      exitCode: 0,
    }));
    const result = await listNvidiaGpuProcesses({ runCommand: runner });
    expect(runner.calls.map((c) => c.args)).toEqual([NVIDIA_SMI_COMPUTE_APPS_ARGS, []]);
    expect(result.status === "ok" && result.processes.map((p) => p.pid)).toEqual([2165, 2496, 2620, 2954, 3527, 5021, 5022]);
  });

  it("is absent without nvidia-smi and an error when it fails", async () => {
    expect(await listNvidiaGpuProcesses({ runCommand: scriptedRunner(({ file }) => missingCommand(file)) })).toEqual({ status: "absent" });
    const failing = scriptedRunner(() => ({ stdout: fixtureText("nvidia-smi/driver-not-loaded.stdout.txt"), stderr: "", exitCode: 9 }));
    expect(await listNvidiaGpuProcesses({ runCommand: failing })).toMatchObject({ status: "error", error: expect.stringMatching(/^nvidia-smi exited with code 9: NVIDIA-SMI has failed/) });
  });
});
