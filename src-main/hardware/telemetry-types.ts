import { z } from "zod";

export const gpuVendorSchema = z.enum(["nvidia", "amd", "intel", "apple", "other"]);
export type GpuVendor = z.infer<typeof gpuVendorSchema>;

const reading = z.number().nullable();

/** One GPU's live readings. `null` means the source could not tell, which is not the same as 0. */
export const gpuReadingSchema = z.object({
  /** The normalized PCI bus id when known (the key shared with the inventory), else vendor + index. */
  id: z.string(),
  vendor: gpuVendorSchema,
  name: z.string(),
  pciBusId: z.string().nullable(),
  driverVersion: z.string().nullable(),
  temperatureC: reading,
  /** AMD's "junction" sensor; NVIDIA does not report a hotspot through nvidia-smi. */
  hotspotC: reading,
  utilizationPercent: reading,
  memoryUtilizationPercent: reading,
  powerW: reading,
  powerLimitW: reading,
  vramUsedBytes: reading,
  vramTotalBytes: reading,
  smClockMHz: reading,
  memClockMHz: reading,
  fanPercent: reading,
  fanRpm: reading,
});
export type GpuReading = z.infer<typeof gpuReadingSchema>;

export const telemetrySampleSchema = z.object({
  /** Epoch milliseconds when the sample was started. */
  at: z.number(),
  gpus: z.array(gpuReadingSchema),
  /** What went wrong while reading, one line per problem, prefixed with the source's name. */
  errors: z.array(z.string()),
});
export type TelemetrySample = z.infer<typeof telemetrySampleSchema>;

/**
 * What one read of a source found. "absent" means the tooling is not on this machine (no nvidia-smi,
 * no amdgpu card): a normal state that is neither a reading nor an error.
 */
export type TelemetryReadResult =
  | { status: "absent" }
  | { status: "ok"; gpus: GpuReading[]; problems: string[] }
  | { status: "error"; error: string };

export interface TelemetrySource {
  readonly name: string;
  read(options: { signal: AbortSignal }): Promise<TelemetryReadResult>;
}

export function emptyReading(fields: Pick<GpuReading, "id" | "vendor" | "name" | "pciBusId">): GpuReading {
  return {
    ...fields,
    driverVersion: null,
    temperatureC: null,
    hotspotC: null,
    utilizationPercent: null,
    memoryUtilizationPercent: null,
    powerW: null,
    powerLimitW: null,
    vramUsedBytes: null,
    vramTotalBytes: null,
    smClockMHz: null,
    memClockMHz: null,
    fanPercent: null,
    fanRpm: null,
  };
}
