/** The GPU limits: temperature and power with hysteresis, and VRAM left by other programs. */
import type { PolicyLimits } from "./policy-config.js";

/** One GPU in a telemetry sample; a null (or missing) reading is unknown, never zero. */
export interface PolicyGpuReading {
  temperatureC?: number | null;
  powerW?: number | null;
  powerLimitW?: number | null;
  vramUsedBytes?: number | null;
  vramTotalBytes?: number | null;
  utilizationPercent?: number | null;
}

export interface PolicyTelemetrySample {
  gpus: readonly PolicyGpuReading[];
}

/** A limit with hysteresis: once tripped it holds until the reading falls to the resume level. */
export interface HysteresisState {
  tripped: boolean;
  /** Epoch ms of the trip; null while not tripped. */
  since: number | null;
  /** The last known reading of the GPU nearest its limit, kept across unknown (null) samples. */
  lastValue: number | null;
  /** Which GPU that reading came from (its index in the sample). */
  gpuIndex: number | null;
  /** The limit it was measured against (per card for power), for the reason text. */
  limit: number | null;
}

/** Within this many °C of the limit, run one job at a time to slow the climb. */
export const NEAR_TEMPERATURE_LIMIT_C = 5;
/** Power resumes once every card is this fraction of its cap or below. */
export const POWER_RESUME_FRACTION = 0.9;
/** VRAM is "tight" (one job at a time) when less than this fraction of the card is left to spare. */
export const VRAM_TIGHT_FRACTION = 0.1;
/** Below this fraction of the card free, other programs are being squeezed: stop. */
export const VRAM_RESERVE_FRACTION = 0.02;

export function known(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

export function hottestGpu(gpus: readonly PolicyGpuReading[]): { index: number; value: number } | null {
  let hottest: { index: number; value: number } | null = null;
  for (const [index, gpu] of gpus.entries()) {
    if (known(gpu.temperatureC) && (hottest === null || gpu.temperatureC > hottest.value)) hottest = { index, value: gpu.temperatureC };
  }
  return hottest;
}

/** Unknown readings neither trip nor clear: a sensor that stops answering must not resume a hot GPU. */
export function nextThermalState(previous: HysteresisState, gpus: readonly PolicyGpuReading[], limits: PolicyLimits, now: number): HysteresisState {
  const hottest = hottestGpu(gpus);
  if (hottest === null) return previous;
  const reading = { lastValue: hottest.value, gpuIndex: hottest.index, limit: limits.maxTemperatureC };
  if (!previous.tripped && hottest.value >= limits.maxTemperatureC) return { tripped: true, since: now, ...reading };
  if (previous.tripped && hottest.value <= limits.maxTemperatureC - limits.temperatureResumeMarginC) {
    return { tripped: false, since: null, ...reading };
  }
  return { ...previous, ...reading };
}

export function nextPowerState(previous: HysteresisState, gpus: readonly PolicyGpuReading[], limits: PolicyLimits, now: number): HysteresisState {
  let worst: { index: number; value: number; limit: number; ratio: number } | null = null;
  for (const [index, gpu] of gpus.entries()) {
    const limit = limits.maxPowerW ?? (known(gpu.powerLimitW) && gpu.powerLimitW > 0 ? gpu.powerLimitW * limits.maxPowerFractionOfLimit : null);
    if (limit === null || !known(gpu.powerW)) continue;
    const ratio = gpu.powerW / limit;
    if (worst === null || ratio > worst.ratio) worst = { index, value: gpu.powerW, limit, ratio };
  }
  if (worst === null) return previous;
  const { index, value, limit, ratio } = worst;
  const reading = { lastValue: value, gpuIndex: index, limit };
  if (!previous.tripped && ratio >= 1) return { tripped: true, since: now, ...reading };
  if (previous.tripped && ratio <= POWER_RESUME_FRACTION) return { tripped: false, since: null, ...reading };
  return { ...previous, ...reading };
}

export type VramStatus =
  | { kind: "unknown" }
  | { kind: "ok" | "tight" | "short"; limitedBy: "others" | "share"; othersBytes: number; totalBytes: number; spareBytes: number; neededBytes: number };

/**
 * Two limits: our model must fit the owner's share, and the card must keep a little free for everyone
 * (a full card means other programs, a game among them, are being squeezed). Summed over the GPUs that
 * report both figures (the sample does not say which card holds our model). Without our own usage there
 * is nothing to compare: whether a model fits is decided when it loads.
 */
export function vramStatus(gpus: readonly PolicyGpuReading[], ourVramBytes: number, vramShare: number): VramStatus {
  let used = 0;
  let total = 0;
  for (const gpu of gpus) {
    if (known(gpu.vramUsedBytes) && known(gpu.vramTotalBytes) && gpu.vramTotalBytes > 0) {
      used += gpu.vramUsedBytes;
      total += gpu.vramTotalBytes;
    }
  }
  if (total === 0 || !(ourVramBytes > 0)) return { kind: "unknown" };
  // Our own usage is read at another moment than the sample, so "others" may come out slightly negative.
  const othersBytes = Math.max(0, used - ourVramBytes);
  const shareRoom = total * vramShare - ourVramBytes;
  const free = total - othersBytes - ourVramBytes;
  const common = { othersBytes, totalBytes: total, spareBytes: Math.max(0, Math.min(shareRoom, free)), neededBytes: ourVramBytes };
  if (shareRoom < 0) return { kind: "short", limitedBy: "share", ...common };
  if (free < total * VRAM_RESERVE_FRACTION) return { kind: "short", limitedBy: "others", ...common };
  const kind = Math.min(shareRoom, free) < total * VRAM_TIGHT_FRACTION ? "tight" : "ok";
  return { kind, limitedBy: shareRoom < free ? "share" : "others", ...common };
}
