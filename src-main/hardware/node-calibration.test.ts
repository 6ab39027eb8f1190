import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createJsonFileStore } from "./json-file-store.js";
import { CALIBRATION_STORE_KEY, loadCalibration, median, runNodeCalibration, type CalibrationEngine, type CalibrationModel, type MachineFingerprint } from "./node-calibration.js";

const SHA = "a".repeat(64);
const machine: MachineFingerprint = { cpuModel: "AMD EPYC", cores: 2, gpuBackend: false };
const tempStore = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "inferswarm-store-"));
  return { dir, store: createJsonFileStore({ dir }) };
};

/** An engine whose model answers with scripted timings: decode times in ms for 33 tokens after a 50 ms first token. */
function scriptedEngine(decodeMs: number[], generated = 33) {
  const calls = { loads: 0, generations: 0, closed: 0 };
  const model: CalibrationModel = {
    threads: 2,
    info: { sha256: SHA, name: "tiny" },
    async generateText() {
      const decode = decodeMs[calls.generations++ % decodeMs.length]!;
      return { promptTokenCount: 40, generatedTokenCount: generated, timeToFirstTokenMs: 50, durationMs: 50 + decode };
    },
    async close() {
      calls.closed++;
    },
  };
  const engine: CalibrationEngine = {
    async loadModel() {
      calls.loads++;
      return model;
    },
    describe: () => ({ gpu: false }),
  };
  return { engine, calls };
}

describe("runNodeCalibration", () => {
  it("reports the median decode speed with min and max, after a warm-up run, and stores it", async () => {
    // Warm-up 1000 ms (ignored), then 32 decode tokens in 400, 200 and 100 ms: 80, 160, 320 tok/s.
    const { engine, calls } = scriptedEngine([1000, 400, 200, 100]);
    const { store } = await tempStore();
    const calibration = await runNodeCalibration({ engine, referenceModelPath: "/models/tiny.gguf", store, machine, clock: { now: () => 1234 } });
    expect(calibration).toMatchObject({
      version: 1,
      modelSha256: SHA,
      threads: 2,
      decodeTokensPerSecond: 160,
      decodeTokensPerSecondMin: 80,
      decodeTokensPerSecondMax: 320,
      prefillTokensPerSecond: 800,
      measuredAt: 1234,
      machine,
    });
    expect(calibration.runs.map((r) => r.decodeTokensPerSecond)).toEqual([80, 160, 320]);
    expect(calls).toEqual({ loads: 1, generations: 4, closed: 1 });
    expect(await store.read(CALIBRATION_STORE_KEY)).toEqual(calibration);
  });

  it("fails clearly when the model stops after one token, and still closes it", async () => {
    const { engine, calls } = scriptedEngine([100], 1);
    const { store } = await tempStore();
    await expect(runNodeCalibration({ engine, referenceModelPath: "/m.gguf", store, machine })).rejects.toMatchObject({ code: "HARDWARE_CALIBRATION_FAILED" });
    expect(calls.closed).toBe(1);
    expect(await store.read(CALIBRATION_STORE_KEY)).toBeUndefined();
  });
});

describe("loadCalibration", () => {
  it("returns the stored figure only for the same model hash and machine", async () => {
    const { store } = await tempStore();
    const stored = await runNodeCalibration({ engine: scriptedEngine([100]).engine, referenceModelPath: "/m.gguf", store, machine, warmupRuns: 0, runs: 1 });
    expect(await loadCalibration({ store, modelSha256: SHA, machine })).toEqual(stored);
    expect(await loadCalibration({ store, modelSha256: "b".repeat(64), machine })).toBeUndefined();
    expect(await loadCalibration({ store, modelSha256: SHA, machine: { ...machine, gpuBackend: "cuda" } })).toBeUndefined();
    expect(await loadCalibration({ store, modelSha256: SHA, machine: { ...machine, cores: 16 } })).toBeUndefined();
  });

  it("treats a missing, corrupt or foreign file as 'calibrate again'", async () => {
    const { dir, store } = await tempStore();
    expect(await loadCalibration({ store, modelSha256: SHA, machine })).toBeUndefined();
    await writeFile(path.join(dir, `${CALIBRATION_STORE_KEY}.json`), "{ half a docu");
    expect(await loadCalibration({ store, modelSha256: SHA, machine })).toBeUndefined();
    await writeFile(path.join(dir, `${CALIBRATION_STORE_KEY}.json`), JSON.stringify({ version: 0, tokensPerSecond: 5 }));
    expect(await loadCalibration({ store, modelSha256: SHA, machine })).toBeUndefined();
  });
});

describe("createJsonFileStore", () => {
  it("writes through a temporary file and leaves only the document behind", async () => {
    const { dir, store } = await tempStore();
    await store.write("node-calibration", { a: 1 });
    await store.write("node-calibration", { a: 2 });
    expect(await readdir(dir)).toEqual(["node-calibration.json"]);
    expect(JSON.parse(await readFile(path.join(dir, "node-calibration.json"), "utf8"))).toEqual({ a: 2 });
    await expect(store.read("../escape")).rejects.toThrow(RangeError);
  });

  it("reports unreadable JSON with a code", async () => {
    const { dir, store } = await tempStore();
    await writeFile(path.join(dir, "x.json"), "not json");
    await expect(store.read("x")).rejects.toMatchObject({ code: "HARDWARE_STORE_CORRUPT" });
  });
});

describe("median", () => {
  it("takes the middle value, or the mean of the two middle ones", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
