import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine, type Engine } from "../engine/index.js";
import { ensureSyntheticModel, type CachedSyntheticModel } from "../models/index.js";
import { createJsonFileStore } from "./json-file-store.js";
import { describeThisMachine, ensureNodeCalibration, loadCalibration, runNodeCalibration } from "./node-calibration.js";

let engine: Engine;
let tiny: CachedSyntheticModel;

beforeAll(async () => {
  tiny = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32", peaky: true });
  engine = await createEngine({ gpu: false });
});

afterAll(async () => {
  await engine?.close();
});

describe("node calibration on the real engine and a generated model", () => {
  it("measures, stores, reloads, and is invalidated by another model hash", async () => {
    const store = createJsonFileStore({ dir: await mkdtemp(path.join(os.tmpdir(), "inferswarm-calibration-")) });
    const calibration = await runNodeCalibration({ engine, referenceModelPath: tiny.path, store, runs: 3, maxTokens: 32 });

    expect(calibration.modelSha256).toBe(tiny.sha256);
    expect(calibration.machine).toEqual(describeThisMachine(engine));
    expect(calibration.machine.gpuBackend).toBe(false);
    expect(calibration.threads).toBeGreaterThanOrEqual(1);
    expect(calibration.threads).toBeLessThanOrEqual(os.availableParallelism());
    expect(calibration.runs).toHaveLength(3);
    for (const run of calibration.runs) expect(run.generatedTokens).toBeGreaterThan(1);
    expect(calibration.decodeTokensPerSecondMin).toBeLessThanOrEqual(calibration.decodeTokensPerSecond);
    expect(calibration.decodeTokensPerSecond).toBeLessThanOrEqual(calibration.decodeTokensPerSecondMax);

    const machine = describeThisMachine(engine);
    expect(await loadCalibration({ store, modelSha256: tiny.sha256, machine })).toEqual(calibration);
    expect(await loadCalibration({ store, modelSha256: "0".repeat(64), machine })).toBeUndefined();
    // The stored figure is reused as long as model and machine are unchanged: no new measurement.
    expect(await ensureNodeCalibration({ engine, referenceModelPath: tiny.path, store })).toEqual(calibration);
  });
});
