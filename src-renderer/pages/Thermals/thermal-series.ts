import type { TelemetryHistory, TelemetryPoint } from "../../../src-contract/index.js";

const GIB = 1024 ** 3;

/** One GPU's readings at one instant, as the charts plot them (null: the source could not tell, drawn as a gap). */
export interface GpuChartPoint {
  at: number;
  temperatureC: number | null;
  utilizationPercent: number | null;
  powerW: number | null;
  vramUsedGiB: number | null;
}

export interface GpuLimits {
  maxTemperatureC: number;
  resumeTemperatureC: number;
  /** The power the policy stops at: the fixed cap, else a fraction of the card's own limit; null when neither is known. */
  powerLimitW: number | null;
  /** The VRAM this node may use; null when the card's total is unknown. */
  vramLimitGiB: number | null;
  vramTotalGiB: number | null;
}

export interface GpuIdentity {
  id: string;
  name: string;
}

/** Every GPU that appears in the samples, in order of first appearance. */
export function gpusIn(samples: readonly TelemetryPoint[]): GpuIdentity[] {
  const seen = new Map<string, string>();
  for (const sample of samples) for (const gpu of sample.gpus) if (!seen.has(gpu.id)) seen.set(gpu.id, gpu.name);
  return [...seen].map(([id, name]) => ({ id, name }));
}

export function seriesFor(samples: readonly TelemetryPoint[], gpuId: string): GpuChartPoint[] {
  return samples.map((sample) => {
    const gpu = sample.gpus.find((g) => g.id === gpuId);
    return {
      at: sample.at,
      temperatureC: gpu?.temperatureC ?? null,
      utilizationPercent: gpu?.utilizationPercent ?? null,
      powerW: gpu?.powerW ?? null,
      vramUsedGiB: gpu?.vramUsedBytes == null ? null : gpu.vramUsedBytes / GIB,
    };
  });
}

/** The owner's limits for one GPU, from the policy limits and the card's latest known power limit and VRAM. */
export function limitsFor(limits: TelemetryHistory["limits"], samples: readonly TelemetryPoint[], gpuId: string): GpuLimits {
  let cardPowerLimitW: number | null = null;
  let vramTotalBytes: number | null = null;
  for (let i = samples.length - 1; i >= 0 && (cardPowerLimitW === null || vramTotalBytes === null); i -= 1) {
    const gpu = samples[i]!.gpus.find((g) => g.id === gpuId);
    cardPowerLimitW ??= gpu?.powerLimitW ?? null;
    vramTotalBytes ??= gpu?.vramTotalBytes ?? null;
  }
  return {
    maxTemperatureC: limits.maxTemperatureC,
    resumeTemperatureC: limits.maxTemperatureC - limits.temperatureResumeMarginC,
    powerLimitW: limits.maxPowerW ?? (cardPowerLimitW === null ? null : cardPowerLimitW * limits.maxPowerFractionOfLimit),
    vramLimitGiB: vramTotalBytes === null ? null : (vramTotalBytes * limits.vramShare) / GIB,
    vramTotalGiB: vramTotalBytes === null ? null : vramTotalBytes / GIB,
  };
}
