import path from "node:path";
import { describe, expect, it } from "vitest";
import { isInferSwarmError } from "../common/index.js";
import { createHardwareProbe, type TelemetrySample } from "./index.js";
import { createRecordedGpuReplay } from "./recorded-gpu-replay.js";
import { FIXTURES_DIR } from "./test-fixtures.js";

describe("recorded GPU replay", () => {
  it("feeds the real telemetry parser with the recorded rounds, alternating idle and load", async () => {
    const replay = createRecordedGpuReplay("rtx4080super");
    const probe = createHardwareProbe({
      ...replay,
      fsRoot: path.join(FIXTURES_DIR, "sysfs-no-gpu"),
      platform: "linux",
      homeDir: "/home/nobody",
      telemetry: { intervalMs: 60 },
    });
    const samples: TelemetrySample[] = [];
    const enough = new Promise<void>((resolve) =>
      probe.sampler.subscribe((sample) => {
        if (sample.gpus.length > 0) samples.push(sample);
        if (new Set(samples.map((s) => s.gpus[0]!.powerW)).size >= 2) resolve();
      }),
    );
    probe.sampler.start();
    await enough;
    probe.close();
    const gpu = samples[0]!.gpus[0]!;
    expect(gpu.vendor).toBe("nvidia");
    expect(gpu.name).toBe("NVIDIA GeForce RTX 4080 SUPER");
    expect(gpu.powerLimitW).toBe(320);
    expect(new Set(samples.map((s) => s.gpus[0]!.powerW))).toEqual(new Set([26.2, 84.24]));
  });

  it("names the recordings there are when asked for one that is not", () => {
    let error: unknown;
    try {
      createRecordedGpuReplay("gtx-9999");
    } catch (e) {
      error = e;
    }
    expect(isInferSwarmError(error, "HARDWARE_FIXTURE_UNKNOWN")).toBe(true);
    expect((error as Error).message).toContain("rtx4080super");
  });
});
