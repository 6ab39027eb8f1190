import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createAmdSysfsTelemetrySource, parseCurrentDpmLevel } from "./amd-sysfs-telemetry.js";
import { FIXTURES_DIR } from "./test-fixtures.js";

const readTree = (tree: string) => createAmdSysfsTelemetrySource({ fsRoot: path.join(FIXTURES_DIR, tree) }).read({ signal: new AbortController().signal });

describe("createAmdSysfsTelemetrySource", () => {
  it("reads an RX 7800 XT next to an Intel iGPU: edge and junction, average power, clocks, fan", async () => {
    const result = await readTree("sysfs-rx7800xt");
    expect(result).toEqual({
      status: "ok",
      problems: [],
      gpus: [
        {
          id: "0000:03:00.0",
          vendor: "amd",
          name: "AMD GPU 1002:747E",
          pciBusId: "0000:03:00.0",
          driverVersion: null,
          temperatureC: 24,
          hotspotC: 31,
          utilizationPercent: 2,
          memoryUtilizationPercent: null,
          powerW: 32,
          powerLimitW: 236,
          vramUsedBytes: 1063768064,
          vramTotalBytes: 17163091968,
          smClockMHz: 77,
          memClockMHz: 456,
          fanPercent: 34.9,
          fanRpm: 868,
        },
      ],
    });
  });

  it("falls back to power1_input and reports no hotspot on a card with only an edge sensor (RX 580)", async () => {
    const result = await readTree("sysfs-rx580");
    if (result.status !== "ok") throw new Error(`expected readings, got ${JSON.stringify(result)}`);
    expect(result.gpus[0]).toMatchObject({ pciBusId: "0000:05:00.0", temperatureC: 44, hotspotC: null, powerW: 38, powerLimitW: 145, smClockMHz: 900, memClockMHz: 1750, fanRpm: 595, fanPercent: 13.7, utilizationPercent: 11 });
  });

  it("is absent on a machine whose drm class holds no AMD card, or no drm class at all", async () => {
    expect(await readTree("sysfs-no-gpu")).toEqual({ status: "absent" });
    const empty = await mkdtemp(path.join(os.tmpdir(), "inferswarm-nosys-"));
    expect(await createAmdSysfsTelemetrySource({ fsRoot: empty }).read({ signal: new AbortController().signal })).toEqual({ status: "absent" });
  });
});

describe("AMD temperature sensors by label", () => {
  it("finds the edge and junction sensors by their labels, whatever their numbers", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "inferswarm-sysfs-"));
    const hwmon = path.join(root, "sys/class/drm/card0/device/hwmon/hwmon0");
    await mkdir(hwmon, { recursive: true });
    const files: Record<string, string> = {
      "../../vendor": "0x1002\n",
      "temp1_label": "mem\n",
      "temp1_input": "60000\n",
      "temp2_label": "junction\n",
      "temp2_input": "71000\n",
      "temp3_label": "edge\n",
      "temp3_input": "52000\n",
    };
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(hwmon, file), text);
    const result = await createAmdSysfsTelemetrySource({ fsRoot: root }).read({ signal: new AbortController().signal });
    expect(result.status === "ok" && result.gpus[0]).toMatchObject({ temperatureC: 52, hotspotC: 71, powerW: null, fanRpm: null, vramTotalBytes: null });
  });
});

describe("parseCurrentDpmLevel", () => {
  it("takes the level marked with a star", () => {
    expect(parseCurrentDpmLevel("0: 96Mhz \n1: 456Mhz *\n2: 772Mhz \n")).toBe(456);
    expect(parseCurrentDpmLevel("0: 500Mhz\n1: 2660Mhz\n")).toBeNull();
    expect(parseCurrentDpmLevel(null)).toBeNull();
  });
});
