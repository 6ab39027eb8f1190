import si from "systeminformation";
import { z } from "zod";
import { createSilentLogger, type Logger } from "../common/index.js";
import { errorMessage } from "./hardware-errors.js";
import { normalizePciBusId } from "./pci-bus-id.js";
import type { GpuReading, GpuVendor, TelemetrySource } from "./telemetry-types.js";
import { gpuVendorSchema } from "./telemetry-types.js";

const MIB = 1024 * 1024;

// ---- what crosses in: systeminformation's answers (only the fields we use) and llama.cpp's GPU state

export const siGraphicsControllerSchema = z.object({
  vendor: z.string().default(""),
  vendorId: z.string().optional(),
  model: z.string().default(""),
  bus: z.string().default(""),
  busAddress: z.string().optional(),
  vram: z.number().nullable().default(null),
  vramDynamic: z.boolean().default(false),
  driverVersion: z.string().optional(),
  name: z.string().optional(),
  pciBus: z.string().optional(),
  /** Only present when systeminformation itself got an answer from nvidia-smi (MiB). */
  memoryTotal: z.number().optional(),
});
export const siGraphicsSchema = z.object({ controllers: z.array(siGraphicsControllerSchema) });
export const siCpuSchema = z.object({ manufacturer: z.string(), brand: z.string(), cores: z.number(), physicalCores: z.number() });
export const siMemSchema = z.object({ total: z.number() });
export type SiGraphics = z.infer<typeof siGraphicsSchema>;

/** The three systeminformation calls the inventory makes; the real package by default. */
export interface SystemInformationReader {
  graphics(): Promise<unknown>;
  cpu(): Promise<unknown>;
  mem(): Promise<unknown>;
}

export const llamaBackendSchema = z.union([z.enum(["cuda", "vulkan", "metal"]), z.literal(false)]);
export const llamaGpuStateSchema = z.object({
  backend: llamaBackendSchema,
  deviceNames: z.array(z.string()),
  vram: z.object({ totalBytes: z.number(), usedBytes: z.number(), freeBytes: z.number() }),
});
/** What llama.cpp sees of the GPU. The engine implements the reader; the composition root wires it. */
export type LlamaGpuState = z.infer<typeof llamaGpuStateSchema>;
export type ReadLlamaGpuState = () => Promise<LlamaGpuState>;

// ---- what goes out

export const computeBackendSchema = z.enum(["cuda", "vulkan", "metal", "cpu"]);
export const vramSourceSchema = z.enum(["llama.cpp", "nvidia-smi", "amd-sysfs", "systeminformation"]);

export const inventoryGpuSchema = z.object({
  vendor: gpuVendorSchema,
  model: z.string(),
  vramBytes: z.number().nullable(),
  /** Who said how much VRAM the card has; null when nobody could be trusted. */
  vramSource: vramSourceSchema.nullable(),
  driverVersion: z.string().nullable(),
  pciBusId: z.string().nullable(),
  /** The llama.cpp backend serving inference on this GPU; "cpu" when it is not used for inference. */
  computeBackend: computeBackendSchema,
});
export type InventoryGpu = z.infer<typeof inventoryGpuSchema>;

export const gpuInventorySchema = z.object({
  gpus: z.array(inventoryGpuSchema),
  llamaBackend: llamaBackendSchema,
  /** llama.cpp's VRAM totals over all the devices it uses (null without a GPU backend). */
  llamaVram: llamaGpuStateSchema.shape.vram.nullable(),
  cpu: z.object({ model: z.string(), cores: z.number(), threads: z.number() }),
  ramBytes: z.number(),
  /** True when inference runs on the CPU: no GPU here, or none that llama.cpp can use. */
  cpuOnly: z.boolean(),
});
export type GpuInventory = z.infer<typeof gpuInventorySchema>;

export interface GpuInventoryDeps {
  systemInformation?: SystemInformationReader;
  readLlamaGpuState?: ReadLlamaGpuState;
  /** Live sources (nvidia-smi, AMD sysfs): their VRAM totals are per card and trustworthy. */
  telemetrySources?: readonly TelemetrySource[];
  platform?: NodeJS.Platform;
  /** Each source read is given this long. */
  readTimeoutMs?: number;
  logger?: Logger;
}

export function classifyVendor(text: string): GpuVendor {
  const value = text.toLowerCase();
  if (/nvidia|\b10de\b|geforce|quadro|tesla/.test(value)) return "nvidia";
  if (/advanced micro devices|\bamd\b|\bati\b|radeon|\b1002\b/.test(value)) return "amd";
  if (/intel|\b8086\b/.test(value)) return "intel";
  if (/apple|\b106b\b/.test(value)) return "apple";
  return "other";
}

/** Lower case, vendor words and parenthesised driver details removed: "AMD Radeon RX 7800 XT (RADV NAVI32)" → "radeon rx 7800 xt". */
function comparableName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\([^)]*\)/g, " ")
    .replace(/\b(nvidia|amd|intel|apple|corporation|advanced micro devices|inc|ati)\b/g, " ")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

function namesMatch(a: string, b: string): boolean {
  const x = comparableName(a);
  const y = comparableName(b);
  return x.length >= 3 && y.length >= 3 && (x.includes(y) || y.includes(x));
}

const BACKEND_VENDORS: Record<"cuda" | "vulkan" | "metal", readonly GpuVendor[]> = {
  cuda: ["nvidia"],
  metal: ["apple", "amd", "intel"],
  vulkan: ["nvidia", "amd", "intel", "apple"],
};

async function readLiveGpus(sources: readonly TelemetrySource[], timeoutMs: number, logger: Logger): Promise<{ reading: GpuReading; source: string }[]> {
  const found: { reading: GpuReading; source: string }[] = [];
  await Promise.all(
    sources.map(async (source) => {
      try {
        const result = await source.read({ signal: AbortSignal.timeout(timeoutMs) });
        if (result.status === "ok") found.push(...result.gpus.map((reading) => ({ reading, source: source.name })));
        else if (result.status === "error") logger.warn({ source: source.name, error: result.error }, "GPU source failed during inventory");
      } catch (error) {
        logger.warn({ source: source.name, error: errorMessage(error) }, "GPU source failed during inventory");
      }
    }),
  );
  return found;
}

/**
 * Which GPUs this machine has, how much VRAM each really has, and which of them llama.cpp computes on.
 * VRAM comes from the most trustworthy source available: llama.cpp for the GPU it uses, then the live
 * per-card readings (nvidia-smi memory.total, amdgpu mem_info_vram_total), then systeminformation off
 * Linux. On Linux systeminformation's `vram` is the PCI BAR size (256 MiB for a 24 GiB card), so it is
 * never used there. A machine without a GPU is a normal answer (cpuOnly, no GPUs), not an error.
 */
export async function detectGpuInventory(deps: GpuInventoryDeps = {}): Promise<GpuInventory> {
  const logger = deps.logger ?? createSilentLogger();
  const platform = deps.platform ?? process.platform;
  const system = deps.systemInformation ?? si;

  const [graphics, cpu, mem, live, llama] = await Promise.all([
    system
      .graphics()
      .then((value) => siGraphicsSchema.parse(value))
      .catch((error: unknown) => {
        logger.warn({ error: errorMessage(error) }, "systeminformation graphics() failed; continuing without it");
        return { controllers: [] };
      }),
    system.cpu().then((value) => siCpuSchema.parse(value)),
    system.mem().then((value) => siMemSchema.parse(value)),
    readLiveGpus(deps.telemetrySources ?? [], deps.readTimeoutMs ?? 5000, logger),
    (deps.readLlamaGpuState?.() ?? Promise.resolve(undefined))
      .then((value) => (value === undefined ? undefined : llamaGpuStateSchema.parse(value)))
      .catch((error: unknown) => {
        logger.warn({ error: errorMessage(error) }, "could not read llama.cpp's GPU state; assuming CPU inference");
        return undefined;
      }),
  ]);

  const gpus: InventoryGpu[] = live.map(({ reading, source }) => ({
    vendor: reading.vendor,
    model: reading.name,
    vramBytes: reading.vramTotalBytes,
    vramSource: reading.vramTotalBytes === null ? null : source === "amd-sysfs" ? "amd-sysfs" : "nvidia-smi",
    driverVersion: reading.driverVersion,
    pciBusId: reading.pciBusId,
    computeBackend: "cpu",
  }));

  for (const controller of graphics.controllers) {
    if (!controller.vendor && !controller.model && !controller.name) continue;
    const pciBusId = normalizePciBusId(controller.pciBus ?? controller.busAddress);
    const vendor = classifyVendor(`${controller.vendor} ${controller.vendorId ?? ""} ${controller.model}`);
    const model = controller.name ?? controller.model;
    const known = pciBusId === null ? undefined : gpus.find((gpu) => gpu.pciBusId === pciBusId);
    if (known) {
      // Sysfs knows no marketing name; lspci's is better than "AMD GPU 1002:747E".
      if (known.vendor === "amd" && /^AMD GPU /.test(known.model) && model) known.model = model;
      known.driverVersion ??= controller.driverVersion ?? null;
      continue;
    }
    let vramBytes: number | null = null;
    let vramSource: InventoryGpu["vramSource"] = null;
    if (controller.memoryTotal) {
      vramBytes = controller.memoryTotal * MIB;
      vramSource = "nvidia-smi";
    } else if (platform !== "linux" && vendor !== "nvidia" && controller.vram && !controller.vramDynamic) {
      vramBytes = controller.vram * MIB;
      vramSource = "systeminformation";
    }
    gpus.push({ vendor, model, vramBytes, vramSource, driverVersion: controller.driverVersion ?? null, pciBusId, computeBackend: "cpu" });
  }

  const backend = llama?.backend ?? false;
  if (llama && backend !== false) {
    const used = new Set<InventoryGpu>();
    for (const deviceName of llama.deviceNames) {
      let match = gpus.find((gpu) => !used.has(gpu) && namesMatch(gpu.model, deviceName));
      if (!match) {
        const nameVendor = classifyVendor(deviceName);
        const candidates = gpus.filter(
          (gpu) => !used.has(gpu) && (nameVendor !== "other" ? gpu.vendor === nameVendor : BACKEND_VENDORS[backend].includes(gpu.vendor)),
        );
        if (candidates.length === 1) match = candidates[0];
      }
      if (!match) {
        // llama.cpp sees a GPU nothing else reported (no lspci, no vendor tool): trust it.
        match = { vendor: classifyVendor(deviceName), model: deviceName, vramBytes: null, vramSource: null, driverVersion: null, pciBusId: null, computeBackend: "cpu" };
        gpus.push(match);
      }
      match.computeBackend = backend;
      used.add(match);
    }
    // llama.cpp's figure is the sum over its devices, so it belongs to a card only when it uses one.
    if (used.size === 1 && llama.vram.totalBytes > 0) {
      const [only] = used;
      only!.vramBytes = llama.vram.totalBytes;
      only!.vramSource = "llama.cpp";
    }
  }

  gpus.sort((a, b) => (a.pciBusId ?? "~").localeCompare(b.pciBusId ?? "~"));
  return gpuInventorySchema.parse({
    gpus,
    llamaBackend: backend,
    llamaVram: backend === false || !llama ? null : llama.vram,
    cpu: { model: `${cpu.manufacturer} ${cpu.brand}`.trim(), cores: cpu.physicalCores, threads: cpu.cores },
    ramBytes: mem.total,
    cpuOnly: gpus.every((gpu) => gpu.computeBackend === "cpu"),
  });
}
