import path from "node:path";
import { describe, expect, it } from "vitest";
import { createAmdSysfsTelemetrySource } from "./amd-sysfs-telemetry.js";
import { detectGpuInventory, type LlamaGpuState, type SystemInformationReader } from "./gpu-inventory.js";
import { createNvidiaSmiTelemetrySource } from "./nvidia-smi-telemetry.js";
import { FIXTURES_DIR, fixtureText, scriptedRunner } from "./test-fixtures.js";

const MIB = 1024 * 1024;

/** systeminformation answering from a recorded fixture. */
function recordedSystemInformation(fixture: string, overrides: Partial<SystemInformationReader> = {}): SystemInformationReader {
  const recorded = JSON.parse(fixtureText(`systeminformation/${fixture}`)) as { graphics: unknown; cpu: unknown; mem: unknown };
  return {
    graphics: async () => recorded.graphics,
    cpu: async () => recorded.cpu,
    mem: async () => recorded.mem,
    ...overrides,
  };
}

const noGpu: LlamaGpuState = { backend: false, deviceNames: [], vram: { totalBytes: 0, usedBytes: 0, freeBytes: 0 } };
const nvidiaSmiFrom = (fixture: string) =>
  createNvidiaSmiTelemetrySource({ runCommand: scriptedRunner(() => ({ stdout: fixtureText(`nvidia-smi/${fixture}`), stderr: "", exitCode: 0 })) });

describe("detectGpuInventory", () => {
  it("describes this machine (a 2-vCPU VM without GPU) as CPU-only, which is not an error", async () => {
    const inventory = await detectGpuInventory({
      systemInformation: recordedSystemInformation("vm-2vcpu-no-gpu.json"),
      readLlamaGpuState: async () => noGpu,
      platform: "linux",
    });
    expect(inventory).toEqual({
      gpus: [],
      llamaBackend: false,
      llamaVram: null,
      cpu: { model: "AMD EPYC", cores: 2, threads: 2 },
      ramBytes: 25276026880,
      cpuOnly: true,
    });
  });

  it("does not take lspci's 256 MiB BAR for the VRAM of an RTX 4090 whose driver is not loaded", async () => {
    const inventory = await detectGpuInventory({
      systemInformation: recordedSystemInformation("linux-rtx4090-driver-not-loaded.json"),
      readLlamaGpuState: async () => noGpu,
      platform: "linux",
    });
    expect(inventory.gpus).toEqual([
      { vendor: "nvidia", model: "Device 2684", vramBytes: null, vramSource: null, driverVersion: null, pciBusId: "0000:01:00.0", computeBackend: "cpu" },
    ]);
    expect(inventory.cpuOnly).toBe(true);
  });

  it("uses nvidia-smi's memory.total, then llama.cpp's figure once CUDA uses the card", async () => {
    const withoutLlama = await detectGpuInventory({
      systemInformation: recordedSystemInformation("linux-rtx4080super-nvidia-smi.json"),
      telemetrySources: [nvidiaSmiFrom("query-gpu-rtx4080super-idle.csv")],
      platform: "linux",
    });
    expect(withoutLlama.gpus).toEqual([
      {
        vendor: "nvidia",
        model: "NVIDIA GeForce RTX 4080 SUPER",
        vramBytes: 16376 * MIB,
        vramSource: "nvidia-smi",
        driverVersion: "595.71.05",
        pciBusId: "0000:01:00.0",
        computeBackend: "cpu",
      },
    ]);

    const cuda: LlamaGpuState = { backend: "cuda", deviceNames: ["NVIDIA GeForce RTX 4080 SUPER"], vram: { totalBytes: 16_860_184_576, usedBytes: 625_000_000, freeBytes: 16_235_184_576 } };
    const withCuda = await detectGpuInventory({
      systemInformation: recordedSystemInformation("linux-rtx4080super-nvidia-smi.json"),
      telemetrySources: [nvidiaSmiFrom("query-gpu-rtx4080super-idle.csv")],
      readLlamaGpuState: async () => cuda,
      platform: "linux",
    });
    expect(withCuda.gpus).toHaveLength(1);
    expect(withCuda.gpus[0]).toMatchObject({ vramBytes: 16_860_184_576, vramSource: "llama.cpp", computeBackend: "cuda" });
    expect(withCuda).toMatchObject({ llamaBackend: "cuda", llamaVram: cuda.vram, cpuOnly: false });
  });

  it("takes an AMD card's VRAM from sysfs, its name from lspci, and leaves the iGPU's BAR alone", async () => {
    const amd = createAmdSysfsTelemetrySource({ fsRoot: path.join(FIXTURES_DIR, "sysfs-rx7800xt") });
    const inventory = await detectGpuInventory({
      systemInformation: recordedSystemInformation("linux-igpu-rx7800xt-no-clinfo.json"),
      telemetrySources: [amd],
      readLlamaGpuState: async () => noGpu,
      platform: "linux",
    });
    expect(inventory.gpus).toEqual([
      { vendor: "intel", model: "AlderLake-S GT1", vramBytes: null, vramSource: null, driverVersion: null, pciBusId: "0000:00:02.0", computeBackend: "cpu" },
      {
        vendor: "amd",
        model: "Navi 32 [Radeon RX 7700 XT / 7800 XT]",
        vramBytes: 17163091968,
        vramSource: "amd-sysfs",
        driverVersion: null,
        pciBusId: "0000:03:00.0",
        computeBackend: "cpu",
      },
    ]);
  });

  it("matches a Vulkan device to the AMD card by vendor when the names differ", async () => {
    const vulkan: LlamaGpuState = { backend: "vulkan", deviceNames: ["AMD Radeon RX 7800 XT (RADV NAVI32)"], vram: { totalBytes: 17_163_091_968, usedBytes: 0, freeBytes: 17_163_091_968 } };
    const inventory = await detectGpuInventory({
      systemInformation: recordedSystemInformation("linux-igpu-rx7800xt-no-clinfo.json"),
      readLlamaGpuState: async () => vulkan,
      platform: "linux",
    });
    expect(inventory.gpus.map((g) => [g.vendor, g.computeBackend, g.vramSource])).toEqual([
      ["intel", "cpu", null],
      ["amd", "vulkan", "llama.cpp"],
    ]);
    expect(inventory.cpuOnly).toBe(false);
  });

  it("finds both cards of a 2-GPU machine from nvidia-smi alone (no lspci) and keeps per-card VRAM", async () => {
    const cuda: LlamaGpuState = { backend: "cuda", deviceNames: ["NVIDIA GeForce RTX 5090", "NVIDIA GeForce RTX 5090"], vram: { totalBytes: 2 * 32607 * MIB, usedBytes: 0, freeBytes: 2 * 32607 * MIB } };
    const inventory = await detectGpuInventory({
      systemInformation: recordedSystemInformation("vm-2vcpu-no-gpu.json"),
      telemetrySources: [nvidiaSmiFrom("query-gpu-2x-rtx5090.csv")],
      readLlamaGpuState: async () => cuda,
      platform: "linux",
    });
    expect(inventory.gpus.map((g) => [g.pciBusId, g.vramBytes, g.vramSource, g.computeBackend])).toEqual([
      ["0000:01:00.0", 32607 * MIB, "nvidia-smi", "cuda"],
      ["0000:02:00.0", 32607 * MIB, "nvidia-smi", "cuda"],
    ]);
    expect(inventory.llamaVram?.totalBytes).toBe(2 * 32607 * MIB);
  });

  it("gives an Apple GPU llama.cpp's Metal working set as its VRAM", async () => {
    const metal: LlamaGpuState = { backend: "metal", deviceNames: ["Apple M2 Pro"], vram: { totalBytes: 22_906_503_168, usedBytes: 0, freeBytes: 22_906_503_168 } };
    const inventory = await detectGpuInventory({
      systemInformation: recordedSystemInformation("macos-apple-m2pro-reconstructed.json"),
      readLlamaGpuState: async () => metal,
      platform: "darwin",
    });
    expect(inventory.gpus).toEqual([
      { vendor: "apple", model: "Apple M2 Pro", vramBytes: 22_906_503_168, vramSource: "llama.cpp", driverVersion: null, pciBusId: null, computeBackend: "metal" },
    ]);
    expect(inventory.cpu).toEqual({ model: "Apple M2 Pro", cores: 12, threads: 12 });
  });

  it("keeps going when systeminformation's graphics() or llama.cpp's state cannot be read", async () => {
    const inventory = await detectGpuInventory({
      systemInformation: recordedSystemInformation("vm-2vcpu-no-gpu.json", { graphics: async () => Promise.reject(new Error("lspci crashed")) }),
      readLlamaGpuState: async () => Promise.reject(new Error("no runtime")),
      platform: "linux",
    });
    expect(inventory).toMatchObject({ gpus: [], llamaBackend: false, cpuOnly: true });
  });

  it("adds a GPU that only llama.cpp sees", async () => {
    const inventory = await detectGpuInventory({
      systemInformation: recordedSystemInformation("vm-2vcpu-no-gpu.json"),
      readLlamaGpuState: async () => ({ backend: "vulkan", deviceNames: ["Intel(R) Arc(tm) A770 Graphics"], vram: { totalBytes: 16 * 1024 * MIB, usedBytes: 0, freeBytes: 0 } }),
      platform: "linux",
    });
    expect(inventory.gpus).toEqual([
      { vendor: "intel", model: "Intel(R) Arc(tm) A770 Graphics", vramBytes: 16 * 1024 * MIB, vramSource: "llama.cpp", driverVersion: null, pciBusId: null, computeBackend: "vulkan" },
    ]);
  });
});
