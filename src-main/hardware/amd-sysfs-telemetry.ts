import { readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { underRoot } from "./fs-root.js";
import { errorMessage } from "./hardware-errors.js";
import { normalizePciBusId } from "./pci-bus-id.js";
import type { GpuReading, TelemetryReadResult, TelemetrySource } from "./telemetry-types.js";

const AMD_VENDOR_ID = "0x1002";

/** A sysfs file's trimmed text, or null if it is missing or refuses to be read (EOPNOTSUPP, EINVAL…). */
async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    return null;
  }
}

async function readInteger(file: string): Promise<number | null> {
  const text = await readText(file);
  if (text === null || !/^-?\d+$/.test(text)) return null;
  return Number(text);
}

async function listDirectory(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

const byTrailingNumber = (a: string, b: string) => Number(/\d+$/.exec(a)?.[0] ?? 0) - Number(/\d+$/.exec(b)?.[0] ?? 0);

/** The current level of a `pp_dpm_*` table: the line marked with `*` ("1: 456Mhz *"), in MHz. */
export function parseCurrentDpmLevel(text: string | null): number | null {
  if (text === null) return null;
  for (const line of text.split("\n")) {
    const match = /^\s*\d+:\s*(\d+)\s*Mhz\s*\*\s*$/i.exec(line);
    if (match) return Number(match[1]);
  }
  return null;
}

/** Temperature sensor numbers by label ("edge" → 1); without labels, sensor 1 is the edge sensor. */
async function temperatureSensors(hwmon: string): Promise<{ edge: number | null; junction: number | null }> {
  const labels = new Map<string, number>();
  for (const entry of await listDirectory(hwmon)) {
    const match = /^temp(\d+)_label$/.exec(entry);
    if (!match) continue;
    const label = await readText(path.join(hwmon, entry));
    if (label) labels.set(label.toLowerCase(), Number(match[1]));
  }
  if (labels.size === 0) return { edge: 1, junction: null };
  return { edge: labels.get("edge") ?? null, junction: labels.get("junction") ?? null };
}

async function readCard(cardName: string, device: string): Promise<GpuReading> {
  const uevent = (await readText(path.join(device, "uevent"))) ?? "";
  const ueventValue = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(uevent)?.[1]?.trim() ?? null;
  let pciBusId = normalizePciBusId(ueventValue("PCI_SLOT_NAME"));
  if (pciBusId === null) {
    // On a real system `device` is a symlink to the PCI device directory, named by its address.
    const target = await readlink(device).catch(() => null);
    pciBusId = normalizePciBusId(target ? path.basename(target) : null);
  }
  const productName = await readText(path.join(device, "product_name"));
  const pciId = ueventValue("PCI_ID");
  const name = productName || `AMD GPU ${pciId ?? cardName}`;

  const hwmonDir = (await listDirectory(path.join(device, "hwmon"))).filter((e) => /^hwmon\d+$/.test(e)).sort(byTrailingNumber)[0];
  const hwmon = hwmonDir ? path.join(device, "hwmon", hwmonDir) : null;
  const inHwmon = (file: string) => (hwmon ? readInteger(path.join(hwmon, file)) : Promise.resolve(null));
  const sensors = hwmon ? await temperatureSensors(hwmon) : { edge: null, junction: null };
  const millidegrees = async (sensor: number | null) => {
    const value = sensor === null ? null : await inHwmon(`temp${sensor}_input`);
    return value === null ? null : value / 1000;
  };
  const microwatts = (value: number | null) => (value === null ? null : value / 1_000_000);
  const pwm = await inHwmon("pwm1");

  return {
    id: pciBusId ?? `amd-${cardName}`,
    vendor: "amd",
    name,
    pciBusId,
    driverVersion: null,
    temperatureC: await millidegrees(sensors.edge),
    hotspotC: await millidegrees(sensors.junction),
    utilizationPercent: await readInteger(path.join(device, "gpu_busy_percent")),
    memoryUtilizationPercent: await readInteger(path.join(device, "mem_busy_percent")),
    // Kernels before 6.6 expose power1_average, newer ones power1_input on some cards; either is µW.
    powerW: microwatts((await inHwmon("power1_average")) ?? (await inHwmon("power1_input"))),
    powerLimitW: microwatts(await inHwmon("power1_cap")),
    vramUsedBytes: await readInteger(path.join(device, "mem_info_vram_used")),
    vramTotalBytes: await readInteger(path.join(device, "mem_info_vram_total")),
    smClockMHz: parseCurrentDpmLevel(await readText(path.join(device, "pp_dpm_sclk"))),
    memClockMHz: parseCurrentDpmLevel(await readText(path.join(device, "pp_dpm_mclk"))),
    fanPercent: pwm === null ? null : Math.round((pwm / 255) * 1000) / 10,
    fanRpm: await inHwmon("fan1_input"),
  };
}

export interface AmdSysfsTelemetryOptions {
  /** Where the machine's `/` is; tests point this at a fixture tree. Default "/". */
  fsRoot?: string;
}

/** Live AMD readings from the amdgpu driver's sysfs files; a machine without amdgpu cards is "absent". */
export function createAmdSysfsTelemetrySource(options: AmdSysfsTelemetryOptions = {}): TelemetrySource {
  const drm = underRoot(options.fsRoot ?? "/", "/sys/class/drm");
  return {
    name: "amd-sysfs",
    async read({ signal }): Promise<TelemetryReadResult> {
      const cards = (await listDirectory(drm)).filter((entry) => /^card\d+$/.test(entry)).sort(byTrailingNumber);
      const gpus: GpuReading[] = [];
      const problems: string[] = [];
      for (const card of cards) {
        if (signal.aborted) return { status: "error", error: "stopped before every card was read" };
        const device = path.join(drm, card, "device");
        if ((await readText(path.join(device, "vendor")))?.toLowerCase() !== AMD_VENDOR_ID) continue;
        try {
          gpus.push(await readCard(card, device));
        } catch (error) {
          problems.push(`${card}: ${errorMessage(error)}`);
        }
      }
      if (gpus.length === 0 && problems.length === 0) return { status: "absent" };
      return { status: "ok", gpus, problems };
    },
  };
}
